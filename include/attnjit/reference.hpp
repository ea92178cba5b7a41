// The CPU reference: attention for any variant in double precision, with the
// mask and score evaluated by an interpreter of the IR. It is the oracle every
// GPU kernel is checked against, so it favours plainness over speed.
#pragma once

#include <attnjit/variant.hpp>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace attnjit {

struct AttentionShape {
  std::int64_t batch = 1;
  std::int64_t heads = 1;
  std::int64_t kv_heads = 1;  // must divide heads
  std::int64_t q_len = 1;
  std::int64_t kv_len = 1;
};

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
};

struct ReferenceOutput {
  std::vector<double> out;  // [batch, heads, q_len, head_dim_v]
  std::vector<double> lse;  // [batch, heads, q_len], natural log; -inf for a fully masked row
};

// Throws InputError when the inputs do not fit the variant (sizes, a missing
// param or tensor, a type mismatch, tensor extents that disagree).
ReferenceOutput reference_attention(const Variant& variant, const ReferenceInputs& inputs);

// The (q, k) pairs of one batch entry and head that the mask keeps: what the
// FLOP count of attention is made of. Checks the inputs as reference_attention does.
std::int64_t unmasked_pairs(const Variant& variant, const ReferenceInputs& inputs, std::int64_t b,
                            std::int64_t h);

}  // namespace attnjit
