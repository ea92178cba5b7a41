// Bounds of int expressions, and the conversion the generator uses where an
// int provably fits 32 bits: it must round exactly as (float)x does.
#include "codegen/int_range.hpp"

#include "attnjit/prelude.cuh"
#include "codegen/device_expr.hpp"
#include "tests/language/test_util.hpp"

#include <random>

#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

using testing::parse_one;

Variant with_score(const char* score, const char* decls = "") {
  return parse_one(std::string("variant v { dtype bf16; head_dim 64; ") + decls + " score " +
                   score + "; }");
}

// The int operand of the score's conversion to float.
std::optional<IntRange> converted(const char* score, const char* decls = "") {
  const Variant variant = with_score(score, decls);
  const ir::ExprPtr& expr = variant.score();
  const auto* sum = expr->as<ir::Binary>();
  const auto* cast = sum->rhs->as<ir::IntToFloat>();
  return int_range(cast->operand, variant);
}

TEST(IntRange, IndexDifferencesAreBoundedByTheLaunchLimits) {
  const std::optional<IntRange> range = converted("score + (k - q)");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->lo, -(kMaxSequence - 1));
  EXPECT_EQ(range->hi, kMaxSequence - 1);
  // ALiBi with queries aligned to the end of the keys still fits 32 bits.
  const std::optional<IntRange> aligned = converted("score + (k - (q + kv_len - q_len))");
  ASSERT_TRUE(aligned);
  EXPECT_EQ(aligned->lo, -(2 * kMaxSequence - 1));
  EXPECT_EQ(aligned->hi, 2 * kMaxSequence - 1);
}

TEST(IntRange, ParamsTensorsAndCallsKeepTheirTypesBounds) {
  const std::optional<IntRange> p = converted("score + min(w, 3) * 2", "param w: i32 = 5;");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->lo, 2LL * INT32_MIN);
  EXPECT_EQ(p->hi, 2LL * INT32_MAX);
  const std::optional<IntRange> u8 = converted("score + abs(t[k] / 2)", "tensor t: u8[kv_len];");
  ASSERT_TRUE(u8);
  EXPECT_EQ(u8->lo, 0);
  EXPECT_EQ(u8->hi, 255);
}

TEST(IntRange, WhatMayWrapHasNoBound) {
  EXPECT_FALSE(converted("score + q * q * q"));
  EXPECT_FALSE(converted("score + (q * 4611686018427387904)"));
}

TEST(IntRange, Fits32OnlyWhereEveryIntStepDoes) {
  const auto fits = [](const char* score, const char* decls = "") {
    const Variant variant = with_score(score, decls);
    return fits_int32(variant.score()->as<ir::Binary>()->rhs->as<ir::IntToFloat>()->operand,
                      variant);
  };
  EXPECT_TRUE(fits("score + (k - q)"));
  EXPECT_TRUE(fits("score + (k - (q + kv_len - q_len))"));
  EXPECT_TRUE(fits("score + abs(t[k] / 2)", "tensor t: u8[kv_len];"));
  // Its value is 0, but q * q needs 60 bits.
  EXPECT_FALSE(fits("score + q * q * 0"));
  EXPECT_FALSE(fits("score + min(w, 3) * 2", "param w: i32 = 5;"));
  EXPECT_FALSE(fits("score + q * q * q"));
}

TEST(IntRange, Int32sConvertWithoutTheConversionInstruction) {
  EXPECT_NE(device_expr(with_score("score + (k - q)").score(), with_score("score"))
                .find("aj::int32_to_float"),
            std::string::npos);
  EXPECT_EQ(device_expr(with_score("score + q * q * q").score(), with_score("score"))
                .find("aj::int32_to_float"),
            std::string::npos);
}

TEST(IntRange, Int32ToFloatRoundsLikeTheConversion) {
  std::vector<long long> values = {0,
                                   1,
                                   -1,
                                   (1 << 22) - 1,
                                   1 << 22,
                                   -(1 << 22),
                                   (1 << 24) + 1,
                                   (1 << 24) + 3,
                                   -((1 << 24) + 3),
                                   (1 << 30) - 1,
                                   1 << 30,
                                   -(1 << 30),
                                   -((1 << 30) - 65),
                                   INT32_MAX,
                                   INT32_MIN,
                                   INT32_MAX - 64,
                                   INT32_MIN + 65};
  std::mt19937_64 random(7);
  std::uniform_int_distribution<long long> any(INT32_MIN, INT32_MAX);
  for (int i = 0; i < 200000; ++i) values.push_back(any(random));
  for (const long long x : values) {
    ASSERT_EQ(aj::int32_to_float(x), static_cast<float>(x)) << x;
  }
}

}  // namespace
}  // namespace attnjit::codegen
