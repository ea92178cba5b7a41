// A checked, normalised attention variant: what the text language and the C++
// builder both produce, and what every later stage consumes.
#pragma once

#include <attnjit/ir.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace attnjit {

enum class DType : std::uint8_t { F16, BF16, FP8E4M3, FP8E5M2 };
enum class ParamType : std::uint8_t { I32, F32, Bool };
// F8E4M3 and F8E5M2 are for Q, K and V of fp8 variants only: a declared
// tensor cannot have them.
enum class ElemType : std::uint8_t { I32, F32, F16, BF16, U8, Bool, F8E4M3, F8E5M2 };
// The sizes a tensor dimension may be tied to.
enum class DimKind : std::uint8_t { Batch, Heads, KvHeads, QLen, KvLen };

std::string_view dtype_name(DType type);
std::optional<DType> parse_dtype(std::string_view name);
std::string_view param_type_name(ParamType type);
std::optional<ParamType> parse_param_type(std::string_view name);
std::string_view elem_type_name(ElemType type);
std::optional<ElemType> parse_elem_type(std::string_view name);
std::string_view dim_kind_name(DimKind kind);
std::optional<DimKind> parse_dim_kind(std::string_view name);

// The type an expression sees when it reads a param or a tensor element.
ir::Type value_type(ParamType type);
ir::Type value_type(ElemType type);

// A run-time scalar, typed as its param: i32, f32 or bool.
using ParamValue = std::variant<std::int32_t, float, bool>;
ParamType param_value_type(const ParamValue& value);

// The blocks of `block` rows that cover q_len or kv_len: ceil(length / block)
// of them (the query and key blocks of `sparsity block`'s mask).
struct BlockCount {
  DimKind length;  // QLen or KvLen
  std::int64_t block;
  friend bool operator==(const BlockCount&, const BlockCount&) = default;
};

// A tensor dimension: tied to an attention size, a fixed extent, a free
// name whose extent must agree between tensors at launch, or a block count.
using Dim = std::variant<DimKind, std::int64_t, std::string, BlockCount>;
std::string dim_spelling(const Dim& dim);  // "kv_len", "64", "docs", "blocks(q_len, 128)"

// Block sparsity (`sparsity block(BM, BN);`): the variant declares the tensor
// block_mask: bool[batch, heads, blocks(q_len, BM), blocks(kv_len, BN)] and
// ANDs block_mask[b, h, q / BM, k / BN] into its mask, so that key blocks a
// query block does not list cost nothing (their tiles classify as empty).
struct BlockSparsity {
  int block_m;
  int block_n;
};
inline constexpr std::string_view kBlockMaskTensor = "block_mask";

// Hash sparsity (`sparsity hash(buckets=N);`): the variant declares the
// tensors q_bucket: i32[batch, heads, q_len] and k_bucket: i32[batch,
// kv_heads, kv_len] and ANDs q_bucket[b, h, q] == k_bucket[b, hkv, k] into its
// mask: a query attends only to keys of its own bucket, every other term of
// the mask (causal, say) at the original positions. The runtime computes the
// buckets by an LSH of the queries and keys when they are not given, and runs
// the prefill families on queries and keys reordered by bucket, so that the
// tiles of two different buckets are empty.
struct HashSparsity {
  int buckets;
};
inline constexpr std::string_view kQueryBucketTensor = "q_bucket";
inline constexpr std::string_view kKeyBucketTensor = "k_bucket";
// The original positions of the reordered rows, which the reordered kernel
// reads; reserved like the bucket tensors.
inline constexpr std::string_view kQueryOrderTensor = "q_order";
inline constexpr std::string_view kKeyOrderTensor = "k_order";
// q_bucket[b, h, q] == k_bucket[b, hkv, k], the term hash sparsity adds.
ir::ExprPtr hash_bucket_term();

// HyperAttention (`approx hyper(block=B, samples=M, lsh_bits=R, min_seq=S);`,
// Han et al. 2023), an approximation of plain softmax attention, causal or
// not: queries and keys sorted by an R-bit angular LSH in Gray-code order,
// exact attention on the diagonal blocks of B keys of that order, plus M key
// columns drawn uniformly and weighted by keys / M, the two merged by their
// LSEs; causal by the paper's recursion on halves, exact below S rows. The
// defaults are the paper's. Its variant may say `mask causal;` and nothing
// else of mask, score, param, tensor, sparsity or paging.
struct HyperApprox {
  int block = 256;
  int samples = 256;
  int lsh_bits = 7;
  int min_seq = 4096;
  friend bool operator==(const HyperApprox&, const HyperApprox&) = default;
};

// What is wrong with `key=value` in `approx hyper(...)`, or nothing: the
// builder and the parser share it.
std::optional<std::string> hyper_arg_problem(std::string_view key, std::int64_t value);
// Sets the field `key` names (one that hyper_arg_problem accepts).
void set_hyper_arg(HyperApprox& hyper, std::string_view key, int value);

// SageAttention-style quantisation (`quant sage(qk=int8, pv=fp8_e4m3,
// smooth_k=true, hadamard=true);`, Zhang et al. 2024-25) of a variant with
// fp16 or bf16 inputs, an approximation of that variant: the runtime
// quantises Q per 16 rows and K per 64 keys to int8, after subtracting from
// K its mean over the keys of each head (smooth_k), which softmax does not see once each query's
// dot product with that mean is added back, and after turning the rows of Q and K by one random
// Hadamard rotation (hadamard), which leaves Q K^T as it is and spreads outlier channels over all.
// With pv=fp8_e4m3, V is quantised per channel to fp8 e4m3 and P is rounded to e4m3; with pv
// the inputs' own 16-bit type (fp16 or bf16), V is read as given and P rounds to that type.
// The kernel adds the mean's term to every score, so that masks, scores and the LSE see the
// whole one. Every argument is optional; qk has one value, which it may spell out.
struct SageQuant {
  bool smooth_k = true;
  bool hadamard = true;
  DType pv = DType::FP8E4M3;  // FP8E4M3, or the variant's dtype
  friend bool operator==(const SageQuant&, const SageQuant&) = default;
};
// What is wrong with `key=value` in `quant sage(...)`, or nothing; else sets
// the field `key` names. The builder and the parser share it.
std::optional<std::string> set_sage_arg(SageQuant& quant, std::string_view key,
                                        std::string_view value);
bool is_sage_arg(std::string_view key);  // qk, pv, smooth_k or hadamard

struct ParamDecl {
  std::string name;
  ParamType type;
  std::optional<ParamValue> default_value;
};

struct TensorDecl {
  std::string name;
  ElemType element;
  std::vector<Dim> dims;
};

struct AttentionShape {
  std::int64_t batch = 1;
  std::int64_t heads = 1;
  std::int64_t kv_heads = 1;  // must divide heads
  std::int64_t q_len = 1;
  std::int64_t kv_len = 1;
  friend bool operator==(const AttentionShape&, const AttentionShape&) = default;
};

// The extent a tensor dimension has for `shape`; nothing for a free name.
std::optional<std::int64_t> dim_extent(const Dim& dim, const AttentionShape& shape);

// Immutable; made only by VariantBuilder::build (which the text path uses too),
// so every instance is valid, folded and in canonical order.
class Variant {
 public:
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] DType dtype() const { return dtype_; }
  [[nodiscard]] DType out_dtype() const { return out_dtype_; }
  [[nodiscard]] int head_dim() const { return head_dim_; }
  [[nodiscard]] int head_dim_v() const { return head_dim_v_; }
  [[nodiscard]] float scale() const { return scale_; }
  // Rows per page of a paged K/V cache, or 0 for contiguous K/V. Paging is a storage layout
  // only: the function of the variant is the same.
  [[nodiscard]] int kv_page_size() const { return kv_page_size_; }
  [[nodiscard]] const std::optional<BlockSparsity>& block_sparsity() const {
    return block_sparsity_;
  }
  [[nodiscard]] const std::optional<HashSparsity>& hash_sparsity() const { return hash_sparsity_; }
  [[nodiscard]] const std::optional<HyperApprox>& hyper() const { return hyper_; }
  [[nodiscard]] const std::optional<SageQuant>& quant() const { return quant_; }
  // Sorted by name.
  [[nodiscard]] const std::vector<ParamDecl>& params() const { return params_; }
  [[nodiscard]] const std::vector<TensorDecl>& tensors() const { return tensors_; }
  // The mask as a conjunction, sorted and without duplicates; empty means true.
  [[nodiscard]] const std::vector<ir::ExprPtr>& mask() const { return mask_; }
  // Float expression of the builtin `score`.
  [[nodiscard]] const ir::ExprPtr& score() const { return score_; }
  // The mask as one expression (`true` when there is none).
  [[nodiscard]] ir::ExprPtr mask_expr() const;

  [[nodiscard]] const ParamDecl* find_param(std::string_view name) const;
  [[nodiscard]] const TensorDecl* find_tensor(std::string_view name) const;

  // The statements in canonical form, one per line, without the name.
  [[nodiscard]] const std::string& canonical() const { return canonical_; }
  // 16 lowercase hex digits of SHA-256 over the canonical form.
  [[nodiscard]] const std::string& hash() const { return hash_; }

 private:
  friend class VariantBuilder;
  Variant() = default;

  std::string name_;
  DType dtype_ = DType::F16;
  DType out_dtype_ = DType::F16;
  int head_dim_ = 0;
  int head_dim_v_ = 0;
  float scale_ = 0;
  int kv_page_size_ = 0;
  std::optional<BlockSparsity> block_sparsity_;
  std::optional<HashSparsity> hash_sparsity_;
  std::optional<HyperApprox> hyper_;
  std::optional<SageQuant> quant_;
  std::vector<ParamDecl> params_;
  std::vector<TensorDecl> tensors_;
  std::vector<ir::ExprPtr> mask_;
  ir::ExprPtr score_;
  std::string canonical_;
  std::string hash_;
};

// Limits on declared sizes, shared by every front end.
inline constexpr int kMaxHeadDim = 1024;
inline constexpr int kMaxTensorRank = 8;
inline constexpr int kMaxKvPageSize = 1024;
inline constexpr int kMaxSparseBlock = 65536;
// The runtime's bucket sort keeps a counter per bucket in shared memory.
inline constexpr int kMaxHashBuckets = 1024;
// approx hyper: 2^lsh_bits buckets, so at most kMaxHashBuckets of them.
inline constexpr int kMaxHyperLshBits = 10;
inline constexpr int kMaxHyperBlock = 65536;
inline constexpr int kMaxHyperSamples = 65536;
inline constexpr int kMaxHyperMinSeq = 1 << 30;

}  // namespace attnjit
