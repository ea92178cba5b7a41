// The C++ face builds the very same variants as the text.
#include "tests/language/test_util.hpp"
#include <attnjit/builder.hpp>
#include <attnjit/error.hpp>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

using namespace attnjit::dsl;  // NOLINT(google-build-using-namespace): the DSL reads as text
using testing::parse_one;

TEST(Builder, Gemma2LocalMatchesTheText) {
  VariantBuilder v("gemma2_local");
  v.dtype(DType::BF16).head_dim(256);
  const E window = v.param("window", ParamType::I32, std::int32_t{4096});
  v.mask(causal() && q() - k() < window);
  v.score(softcap(score(), 50.0));
  const Variant built = v.build();
  const Variant parsed = parse_one(R"(variant gemma2_local {
    dtype bf16; head_dim 256; param window: i32 = 4096;
    mask causal && q - k < window; score softcap(score, 50.0); })");
  EXPECT_EQ(built.canonical(), parsed.canonical());
  EXPECT_EQ(built.hash(), parsed.hash());
  EXPECT_EQ(built.name(), "gemma2_local");
}

TEST(Builder, DocumentMaskAndAlibiMatchTheText) {
  VariantBuilder docs("packed_docs");
  docs.dtype(DType::F16).head_dim(128);
  const TensorHandle doc = docs.tensor("doc", ElemType::I32, {DimKind::Batch, DimKind::KvLen});
  docs.mask(causal() && doc(b(), q() + kv_len() - q_len()) == doc(b(), k()));
  EXPECT_EQ(docs.build().hash(), parse_one(R"(variant packed_docs {
    dtype fp16; head_dim 128; tensor doc: i32[batch, kv_len];
    mask causal && doc[b, q + kv_len - q_len] == doc[b, k]; })")
                                     .hash());

  VariantBuilder alibi("alibi");
  alibi.dtype(DType::BF16).head_dim(128);
  const TensorHandle slope = alibi.tensor("slope", ElemType::F32, {DimKind::Heads});
  alibi.mask(causal());
  alibi.score(score() + slope(h()) * (k() - (q() + kv_len() - q_len())));
  EXPECT_EQ(alibi.build().hash(), parse_one(R"(variant alibi {
    dtype bf16; head_dim 128; tensor slope: f32[heads]; mask causal;
    score score + slope[h] * (k - (q + kv_len - q_len)); })")
                                      .hash());
}

TEST(Builder, FreeDimensionsAndScale) {
  VariantBuilder v("t5");
  v.dtype(DType::BF16).head_dim(64).scale(1.0);
  const TensorHandle bias =
      v.tensor("bias", ElemType::F32, {DimKind::Heads, std::string("buckets")});
  v.score(score() + bias(h(), clamp(k() - q(), -128, 127) + 128));
  EXPECT_EQ(v.build().hash(), parse_one(R"(variant t5 {
    dtype bf16; head_dim 64; scale 1; tensor bias: f32[heads, buckets];
    score score + bias[h, clamp(k - q, -128, 127) + 128]; })")
                                  .hash());
}

TEST(Builder, PagedKvMatchesTheText) {
  VariantBuilder v("paged");
  v.dtype(DType::BF16).head_dim(128).kv_paged(16).mask(causal());
  const Variant built = v.build();
  EXPECT_EQ(built.kv_page_size(), 16);
  const Variant parsed =
      parse_one("variant paged { dtype bf16; head_dim 128; kv paged(16); mask causal; }");
  EXPECT_EQ(built.canonical(), parsed.canonical());
  EXPECT_EQ(built.hash(), parsed.hash());

  VariantBuilder contiguous("contiguous");
  contiguous.dtype(DType::BF16).head_dim(128).mask(causal());
  EXPECT_EQ(contiguous.build().kv_page_size(), 0);
  EXPECT_EQ(
      contiguous.build().hash(),
      parse_one("variant c { dtype bf16; head_dim 128; kv contiguous; mask causal; }").hash());
  EXPECT_NE(contiguous.build().hash(), built.hash());
}

TEST(Builder, BlockSparsityDeclaresItsMaskTensorAndTerm) {
  VariantBuilder v("sparse");
  v.dtype(DType::BF16).head_dim(128).sparsity_block(128, 64).mask(causal());
  const Variant built = v.build();
  ASSERT_TRUE(built.block_sparsity().has_value());
  EXPECT_EQ(built.block_sparsity()->block_m, 128);
  EXPECT_EQ(built.block_sparsity()->block_n, 64);
  const TensorDecl* blocks = built.find_tensor("block_mask");
  ASSERT_NE(blocks, nullptr);
  EXPECT_EQ(blocks->element, ElemType::Bool);
  const std::vector<Dim> dims{DimKind::Batch, DimKind::Heads, BlockCount{DimKind::QLen, 128},
                              BlockCount{DimKind::KvLen, 64}};
  EXPECT_EQ(blocks->dims, dims);
  EXPECT_EQ(dim_extent(dims[2], AttentionShape{2, 4, 4, 129, 64}), 2);
  EXPECT_EQ(dim_extent(dims[3], AttentionShape{2, 4, 4, 129, 64}), 1);
  EXPECT_EQ(dim_extent(dims[3], AttentionShape{2, 4, 4, 129, 0}), 0);
  const Variant parsed = parse_one(
      "variant sparse { dtype bf16; head_dim 128; sparsity block(128, 64); mask causal; }");
  EXPECT_EQ(built.canonical(), parsed.canonical());
  EXPECT_EQ(built.hash(), parsed.hash());
  EXPECT_NE(built.hash(), parse_one("variant sparse { dtype bf16; head_dim 128; "
                                    "sparsity block(64, 128); mask causal; }")
                              .hash());

  VariantBuilder taken("taken");
  taken.dtype(DType::BF16).head_dim(64).sparsity_block(64, 64);
  static_cast<void>(taken.tensor("block_mask", ElemType::Bool, {DimKind::Batch}));
  try {
    static_cast<void>(taken.build());
    ADD_FAILURE() << "no SpecError";
  } catch (const SpecError& error) {
    EXPECT_STREQ(error.what(), "'block_mask' is a name that 'sparsity block' takes");
  }
  for (const int bad : {0, -1, 65537}) {
    EXPECT_THROW(v.sparsity_block(bad, 64), SpecError) << bad;
    EXPECT_THROW(v.sparsity_block(64, bad), SpecError) << bad;
  }
}

TEST(Builder, HashSparsityDeclaresBucketTensorsAndTheirTerm) {
  using namespace dsl;
  VariantBuilder v("hashed");
  v.dtype(DType::BF16).head_dim(64).sparsity_hash(8).mask(causal());
  const Variant built = v.build();
  ASSERT_TRUE(built.hash_sparsity().has_value());
  EXPECT_EQ(built.hash_sparsity()->buckets, 8);
  const TensorDecl* q_bucket = built.find_tensor("q_bucket");
  const TensorDecl* k_bucket = built.find_tensor("k_bucket");
  ASSERT_NE(q_bucket, nullptr);
  ASSERT_NE(k_bucket, nullptr);
  EXPECT_EQ(q_bucket->element, ElemType::I32);
  EXPECT_EQ(q_bucket->dims, (std::vector<Dim>{DimKind::Batch, DimKind::Heads, DimKind::QLen}));
  EXPECT_EQ(k_bucket->dims, (std::vector<Dim>{DimKind::Batch, DimKind::KvHeads, DimKind::KvLen}));
  ASSERT_EQ(built.mask().size(), 2U);
  const Variant parsed = parse_one(
      "variant hashed { dtype bf16; head_dim 64; sparsity hash(buckets=8); mask causal; }");
  EXPECT_EQ(built.canonical(), parsed.canonical());
  EXPECT_EQ(built.hash(), parsed.hash());

  for (const char* name : {"q_bucket", "k_bucket", "q_order", "k_order"}) {
    VariantBuilder taken("taken");
    taken.dtype(DType::BF16).head_dim(64).sparsity_hash(4);
    static_cast<void>(taken.tensor(name, ElemType::I32, {DimKind::Batch}));
    EXPECT_THROW(static_cast<void>(taken.build()), SpecError) << name;
  }
  // The buckets are the runtime's to reorder: the user's mask and score do not read them.
  VariantBuilder reads("reads");
  reads.dtype(DType::BF16).head_dim(64).sparsity_hash(4);
  reads.mask(TensorHandle("q_bucket", ElemType::I32, 3)(b(), h(), q()) > 0);
  EXPECT_THROW(static_cast<void>(reads.build()), SpecError);

  VariantBuilder both("both");
  both.dtype(DType::BF16).head_dim(64).sparsity_hash(4).sparsity_block(64, 64);
  EXPECT_THROW(static_cast<void>(both.build()), SpecError);
  for (const int bad : {0, -1, 1025}) EXPECT_THROW(v.sparsity_hash(bad), SpecError) << bad;
}

TEST(Builder, KvPageSizeMustBeAPowerOfTwoUpTo1024) {
  VariantBuilder v("paged");
  for (const int bad : {0, -16, 3, 48, 1000, 2048}) {
    EXPECT_THROW(v.kv_paged(bad), SpecError) << bad;
  }
  try {
    v.kv_paged(3);
    ADD_FAILURE() << "no SpecError";
  } catch (const SpecError& error) {
    EXPECT_STREQ(error.what(), "kv page size must be a power of two in 1..1024, got 3");
  }
  for (const int good : {1, 2, 64, 1024}) {
    v.dtype(DType::F16).head_dim(64).kv_paged(good);
    EXPECT_EQ(v.build().kv_page_size(), good);
  }
}

TEST(Builder, RejectsWhatTheLanguageForbids) {
  EXPECT_THROW(q() + causal(), SpecError);
  EXPECT_THROW(q() % 1.5, SpecError);
  EXPECT_THROW(!q(), SpecError);
  EXPECT_THROW(select(q(), 1, 2), SpecError);

  VariantBuilder v("bad");
  EXPECT_THROW(v.head_dim(0), SpecError);
  EXPECT_THROW(v.param("q", ParamType::I32), SpecError);
  EXPECT_THROW(v.param("w", ParamType::I32, 1.5F), SpecError);
  EXPECT_THROW(v.tensor("t", ElemType::F32, {}), SpecError);
  EXPECT_THROW(v.tensor("t", ElemType::F8E4M3, {DimKind::Heads}), SpecError);
  EXPECT_THROW(v.mask(q()), SpecError);
  EXPECT_THROW(v.build(), SpecError);  // no dtype

  const TensorHandle t = v.tensor("t", ElemType::F32, {DimKind::Heads});
  EXPECT_THROW(t(h(), k()), SpecError);
  EXPECT_THROW(t(1.5), SpecError);

  v.dtype(DType::BF16).head_dim(64).mask(score() > 0.0);
  EXPECT_THROW(v.build(), SpecError);  // score in the mask
}

TEST(Builder, RejectsNamesItDidNotDeclare) {
  VariantBuilder other("other");
  const E foreign = other.param("w", ParamType::I32);
  VariantBuilder v("v");
  v.dtype(DType::BF16).head_dim(64).mask(q() < foreign);
  EXPECT_THROW(v.build(), SpecError);
}

TEST(Builder, RejectsDeepTrees) {
  E sum = q();
  EXPECT_THROW(
      {
        for (int i = 0; i < 1000; ++i) sum = sum + q();
      },
      SpecError);
}

}  // namespace
}  // namespace attnjit
