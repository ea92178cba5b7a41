// The tuner's plan: defaults first, then the space, each config once.
#include "tuner/plan.hpp"

#include <attnjit/language.hpp>

#include <set>

#include <gtest/gtest.h>

namespace attnjit::tuner {
namespace {

Variant dense(int head_dim) {
  ParseResult parsed = parse_variants(
      "variant d { dtype bf16; head_dim " + std::to_string(head_dim) + "; }", "d.attn");
  return parsed.variants.at(0);
}

const codegen::Arch kSm90{9, 0, true};

TEST(Plan, DefaultsComeFirstAndEveryConfigOnce) {
  for (const int d : {64, 128, 256}) {
    const Variant variant = dense(d);
    const auto defaults = codegen::default_configs(variant, codegen::Family::Fa2Sm80, kSm90);
    const auto space = codegen::search_space(variant, codegen::Family::Fa2Sm80, kSm90);
    const auto plan =
        plan_configs(variant, codegen::Family::Fa2Sm80, kSm90, Strategy::Exhaustive, 1);
    ASSERT_GE(plan.size(), defaults.size());
    EXPECT_TRUE(std::equal(defaults.begin(), defaults.end(), plan.begin())) << "d" << d;
    const std::set<std::string> unique(plan.begin(), plan.end());
    EXPECT_EQ(unique.size(), plan.size());
    std::set<std::string> want(space.begin(), space.end());
    want.insert(defaults.begin(), defaults.end());
    EXPECT_EQ(unique, want);
  }
}

TEST(Plan, RandomShufflesTheRestBySeed) {
  const Variant variant = dense(64);
  const auto exhaustive =
      plan_configs(variant, codegen::Family::Fa2Sm80, kSm90, Strategy::Exhaustive, 1);
  const auto first = plan_configs(variant, codegen::Family::Fa2Sm80, kSm90, Strategy::Random, 1);
  const auto again = plan_configs(variant, codegen::Family::Fa2Sm80, kSm90, Strategy::Random, 1);
  const auto other = plan_configs(variant, codegen::Family::Fa2Sm80, kSm90, Strategy::Random, 2);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
  EXPECT_NE(first, exhaustive);
  EXPECT_EQ(std::set(first.begin(), first.end()), std::set(exhaustive.begin(), exhaustive.end()));
}

TEST(Plan, StrategiesByName) {
  EXPECT_EQ(parse_strategy("exhaustive"), Strategy::Exhaustive);
  EXPECT_EQ(parse_strategy("random"), Strategy::Random);
  EXPECT_EQ(parse_strategy("genetic"), std::nullopt);
  EXPECT_EQ(strategy_name(Strategy::Random), "random");
}

}  // namespace
}  // namespace attnjit::tuner
