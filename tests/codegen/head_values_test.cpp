// Which reads of a score are made once a row (head_values.hpp): those that
// name no row, key or score, however deep in the score, and each spelling once.
#include "codegen/head_values.hpp"

#include "codegen/kernel_source.hpp"
#include "codegen/score_terms.hpp"
#include "tests/language/test_util.hpp"

#include <string>

#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

using testing::parse_one;

HeadValues of(const char* text) {
  const Variant variant = parse_one(text);
  return head_values(variant, additive_bias(variant.score()));
}

TEST(HeadValues, ReadsOfHeadsAndBatchEntriesOnly) {
  const HeadValues slope =
      of("variant a { dtype bf16; head_dim 128; tensor slope: f32[kv_heads]; "
         "score score + slope[hkv] * (k - q); }");
  EXPECT_EQ(slope.fields, "    float hv0;\n");
  EXPECT_NE(slope.assignments.find("p.hv0 = aj::read<aj::F32>(p.u_slope, (int)ix.hkv)"),
            std::string::npos)
      << slope.assignments;
  // The read in the score, which its additive bias shares.
  EXPECT_EQ(slope.named.size(), 1U);

  const HeadValues per_key =
      of("variant b { dtype bf16; head_dim 128; tensor bias: f32[kv_len]; "
         "score score + bias[k]; }");
  EXPECT_TRUE(per_key.fields.empty());
  EXPECT_TRUE(per_key.named.empty());

  // The largest such part: the whole product of two reads, not each read.
  const HeadValues nested =
      of("variant c { dtype bf16; head_dim 128; tensor bias: f32[batch, heads]; "
         "tensor gain: f32[heads]; tensor rel: f32[kv_len]; "
         "score tanh(score) * (bias[b, h] * gain[h]) + rel[k]; }");
  EXPECT_EQ(nested.fields, "    float hv0;\n");
  EXPECT_NE(nested.assignments.find("u_bias"), std::string::npos);
  EXPECT_NE(nested.assignments.find("u_gain"), std::string::npos);
  EXPECT_EQ(nested.assignments.find("u_rel"), std::string::npos);
}

TEST(HeadValues, TheScoreReadsTheField) {
  const Variant variant = parse_one(
      "variant a { dtype bf16; head_dim 128; tensor slope: f32[kv_heads]; "
      "score score + slope[hkv] * (k - q); }");
  const std::string source = variant_struct(variant);
  const auto score = source.find("static AJ_HD float score(");
  ASSERT_NE(score, std::string::npos);
  const std::string hooks = source.substr(score, source.find("classify(") - score);
  EXPECT_NE(hooks.find("p.hv0"), std::string::npos) << hooks;
  EXPECT_EQ(hooks.find("u_slope"), std::string::npos) << hooks;
}

}  // namespace
}  // namespace attnjit::codegen
