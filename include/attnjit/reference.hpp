// The CPU reference: attention for any variant in double precision, with the
// mask and score evaluated by an interpreter of the IR. It is the oracle every
// GPU kernel is checked against, so it favours plainness over speed.
#pragma once

#include <attnjit/variant.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace attnjit {

// A dense, row-major host tensor. Values are held as doubles whatever the
// declared element type; ints and bools are read back as such.
struct HostTensor {
  std::vector<std::int64_t> shape;
  std::vector<double> data;
};

struct ReferenceInputs {
  AttentionShape shape;
  std::span<const double> q;                               // [batch, heads, q_len, head_dim]
  std::span<const double> k;                               // [batch, kv_heads, kv_len, head_dim]
  std::span<const double> v;                               // [batch, kv_heads, kv_len, head_dim_v]
  std::map<std::string, ParamValue, std::less<>> params;   // by name; a default fills a gap
  std::map<std::string, HostTensor, std::less<>> tensors;  // by name
  // Keys of each batch entry, for a ragged batch: empty means shape.kv_len for every entry,
  // otherwise `batch` values in [0, shape.kv_len]. K and V keep shape.kv_len rows per head (the
  // capacity); batch entry b has only its first kv_lens[b] keys, and `kv_len` in its masks and
  // scores is kv_lens[b]. Tensors with a kv_len dimension keep extent shape.kv_len.
  std::vector<std::int64_t> kv_lens;
};

struct ReferenceOutput {
  std::vector<double> out;  // [batch, heads, q_len, head_dim_v]
  std::vector<double> lse;  // [batch, heads, q_len], natural log; -inf for a fully masked row
};

// Throws InputError when the inputs do not fit the variant (sizes, a missing
// param or tensor, a type mismatch, tensor extents that disagree).
ReferenceOutput reference_attention(const Variant& variant, const ReferenceInputs& inputs);

// The (q, k) pairs of one batch entry and head that the mask keeps, among that
// entry's keys: what the FLOP count of attention is made of. Checks the inputs
// as reference_attention does, and b against a ragged batch's kv_lens.
std::int64_t unmasked_pairs(const Variant& variant, const ReferenceInputs& inputs, std::int64_t b,
                            std::int64_t h);

// One query row of one batch entry and head.
struct RowIndex {
  std::int64_t batch = 0;
  std::int64_t head = 0;
  std::int64_t q = 0;

  friend bool operator==(const RowIndex&, const RowIndex&) = default;
};

struct RowOutput {
  std::vector<double> out;  // head_dim_v values
  double lse = 0;           // natural log; -inf for a fully masked row
};

// The reference for the given rows only, so that outputs too large for the
// full reference can still be checked: the same numbers reference_attention
// gives for them, at a cost of O(rows * kv_len * head_dim). Throws InputError
// like reference_attention, and for a row outside the shape.
std::vector<RowOutput> reference_rows(const Variant& variant, const ReferenceInputs& inputs,
                                      std::span<const RowIndex> rows);

// `count` distinct rows drawn uniformly (seeded), in (batch, head, q) order.
// The first and the last query row of one (random) batch entry and head are
// always among them (only the first when count is 1), since those are where
// masks empty whole rows and kernels handle partial tiles. All rows when
// count covers them; none for a shape without rows. The draw depends only on
// the seed, not on the standard library, so a failing row can be named across
// machines. Throws InputError when the shape's row count overflows.
std::vector<RowIndex> sample_rows(const AttentionShape& shape, std::size_t count,
                                  std::uint64_t seed);

}  // namespace attnjit
