// How many heads share the prefill grid's x dimension, as the runtime
// launches it and as the kernel reads it back (Config::kHeadGroup).
#include "codegen/family.hpp"
#include "codegen/kernel_source.hpp"
#include <attnjit/language.hpp>

#include <string>

#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

Variant parse(const std::string& text) {
  ParseResult parsed = parse_variants(text, "t.attn");
  EXPECT_TRUE(parsed.ok());
  return parsed.variants.front();
}

TEST(HeadGroup, TwoHeadsUnderAMaskOneWithout) {
  const Variant masked = parse("variant c { dtype bf16; head_dim 128; mask causal; }");
  const Variant dense = parse("variant d { dtype bf16; head_dim 128; }");
  EXPECT_EQ(grid_head_group(masked), 2);
  EXPECT_EQ(grid_head_group(dense), 1);
  const auto arch = parse_arch("sm_90a");
  ASSERT_TRUE(arch);
  for (const Family family : {Family::Fa2Sm80, Family::Fa3Sm90}) {
    const GeneratedKernel with_mask = generate(masked, family, "", *arch).kernel;
    EXPECT_EQ(with_mask.head_group, 2);
    EXPECT_NE(with_mask.source.find("kHeadGroup = 2;"), std::string::npos);
    const GeneratedKernel without = generate(dense, family, "", *arch).kernel;
    EXPECT_EQ(without.head_group, 1);
    EXPECT_NE(without.source.find("kHeadGroup = 1;"), std::string::npos);
  }
}

}  // namespace
}  // namespace attnjit::codegen
