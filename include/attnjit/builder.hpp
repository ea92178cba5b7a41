// The C++ face of the variant language. It produces the same Variant (and so
// the same hash) as the text of LANGUAGE.md:
//
//   using namespace attnjit::dsl;
//   attnjit::VariantBuilder v("gemma2_local");
//   v.dtype(attnjit::DType::BF16).head_dim(256);
//   E window = v.param("window", attnjit::ParamType::I32, std::int32_t{4096});
//   v.mask(causal() && q() - k() < window);
//   v.score(softcap(score(), 50.0));
//   attnjit::Variant variant = v.build();
#pragma once

#include <attnjit/ir.hpp>
#include <attnjit/variant.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attnjit {

namespace dsl {

// An expression handle; arithmetic on handles builds IR, checking types.
class E {
 public:
  E(int value);           // NOLINT(google-explicit-constructor): literals read naturally
  E(std::int64_t value);  // NOLINT(google-explicit-constructor)
  E(double value);        // NOLINT(google-explicit-constructor)
  explicit E(ir::ExprPtr expr);
  [[nodiscard]] const ir::ExprPtr& expr() const { return expr_; }

 private:
  ir::ExprPtr expr_;
};

E lit(bool value);
E b();
E h();
E hkv();
E q();
E k();
E batch();
E heads();
E kv_heads();
E q_len();
E kv_len();
E score();
E causal();

E operator-(const E& operand);
E operator!(const E& operand);
E operator+(const E& lhs, const E& rhs);
E operator-(const E& lhs, const E& rhs);
E operator*(const E& lhs, const E& rhs);
E operator/(const E& lhs, const E& rhs);
E operator%(const E& lhs, const E& rhs);
E operator<(const E& lhs, const E& rhs);
E operator<=(const E& lhs, const E& rhs);
E operator>(const E& lhs, const E& rhs);
E operator>=(const E& lhs, const E& rhs);
E operator==(const E& lhs, const E& rhs);
E operator!=(const E& lhs, const E& rhs);
E operator&&(const E& lhs, const E& rhs);
E operator||(const E& lhs, const E& rhs);
E select(const E& cond, const E& if_true, const E& if_false);

E abs(const E& x);
E min(const E& x, const E& y);
E max(const E& x, const E& y);
E clamp(const E& x, const E& lo, const E& hi);
E exp(const E& x);
E exp2(const E& x);
E log(const E& x);
E log2(const E& x);
E sqrt(const E& x);
E rsqrt(const E& x);
E tanh(const E& x);
E sigmoid(const E& x);
E floor(const E& x);
E ceil(const E& x);
E softcap(const E& x, const E& cap);

// A declared tensor; call it with one index per dimension to read it.
class TensorHandle {
 public:
  TensorHandle(std::string name, ElemType element, std::size_t rank);
  [[nodiscard]] E read(const std::vector<E>& indices) const;
  template <class... Ix>
  E operator()(const Ix&... indices) const {
    return read({E(indices)...});
  }

 private:
  std::string name_;
  ElemType element_;
  std::size_t rank_;
};

}  // namespace dsl

class VariantBuilder {
 public:
  explicit VariantBuilder(std::string name);

  VariantBuilder& dtype(DType type);
  VariantBuilder& out_dtype(DType type);
  VariantBuilder& head_dim(int size);
  VariantBuilder& head_dim_v(int size);
  // K and V in pages of `page_size` rows (a power of two up to kMaxKvPageSize), addressed
  // through a page table; contiguous K/V when never called.
  VariantBuilder& kv_paged(int page_size);
  // Block sparsity over blocks of `block_m` query rows and `block_n` keys (1..kMaxSparseBlock
  // each): a run-time block mask tensor and its term in the mask (BlockSparsity).
  VariantBuilder& sparsity_block(int block_m, int block_n);
  // Hash sparsity over `buckets` buckets (1..kMaxHashBuckets): the bucket tensors and their
  // term in the mask (HashSparsity). A variant has at most one kind of sparsity.
  VariantBuilder& sparsity_hash(int buckets);
  // HyperAttention (HyperApprox): block 1..kMaxHyperBlock, samples 0..kMaxHyperSamples,
  // lsh_bits 1..kMaxHyperLshBits, min_seq 1..kMaxHyperMinSeq.
  VariantBuilder& approx_hyper(const HyperApprox& hyper);
  // SageAttention-style quantisation (SageQuant) of a variant with fp16 or bf16 inputs.
  VariantBuilder& quant_sage(const SageQuant& quant);
  // A constant expression; folded when the variant is built.
  VariantBuilder& scale(const dsl::E& value);
  // Several masks are ANDed.
  VariantBuilder& mask(const dsl::E& cond);
  VariantBuilder& score(const dsl::E& value);
  dsl::E param(std::string name, ParamType type, std::optional<ParamValue> default_value = {});
  dsl::TensorHandle tensor(std::string name, ElemType element, std::vector<Dim> dims);

  // Checks the whole variant, folds constants and puts it in canonical form.
  // Throws SpecError on anything the language forbids.
  [[nodiscard]] Variant build() const;

 private:
  void check_hyper_variant() const;

  std::string name_;
  std::optional<DType> dtype_;
  std::optional<DType> out_dtype_;
  std::optional<int> head_dim_;
  std::optional<int> head_dim_v_;
  int kv_page_size_ = 0;
  std::optional<BlockSparsity> block_sparsity_;
  std::optional<HashSparsity> hash_sparsity_;
  std::optional<HyperApprox> hyper_;
  std::optional<SageQuant> quant_;
  ir::ExprPtr scale_;
  std::vector<ir::ExprPtr> masks_;
  ir::ExprPtr score_;
  std::vector<ParamDecl> params_;
  std::vector<TensorDecl> tensors_;
};

}  // namespace attnjit
