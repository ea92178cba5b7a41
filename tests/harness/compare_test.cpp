// Output comparison: tolerances by the variant's types.
#include "harness/compare.hpp"

#include "tests/language/test_util.hpp"
#include <attnjit/language.hpp>

#include <cmath>

#include <gtest/gtest.h>

namespace attnjit::harness {
namespace {

using testing::parse_one;

TEST(Compare, ToleranceIsAbsoluteAndRelative) {
  const Comparison near = compare({1.0, 2.0 + 0.029}, {1.0, 2.0}, 0.01, "O");
  EXPECT_TRUE(near.ok());
  EXPECT_NEAR(near.max_abs_error, 0.029, 1e-12);
  const Comparison far = compare({1.0, 2.0 + 0.031}, {1.0, 2.0}, 0.01, "O");
  EXPECT_EQ(far.bad, 1);
  EXPECT_EQ(far.first_bad.rfind("O[1] = ", 0), 0U) << far.first_bad;
  EXPECT_FALSE(compare({NAN}, {0.0}, 0.01, "O").ok());
  EXPECT_TRUE(compare({-INFINITY}, {-INFINITY}, 0.01, "LSE").ok());
  EXPECT_FALSE(compare({1.0}, {1.0, 2.0}, 0.01, "O").ok());
}

TEST(Compare, OutputToleranceFollowsTheCoarsestRounding) {
  const double fp16 = output_tolerance(parse_one("variant a { dtype fp16; head_dim 64; }"));
  const double bf16 = output_tolerance(parse_one("variant a { dtype bf16; head_dim 64; }"));
  const double mixed =
      output_tolerance(parse_one("variant a { dtype fp16; out_dtype bf16; head_dim 64; }"));
  const double e4m3 = output_tolerance(parse_one("variant a { dtype fp8_e4m3; head_dim 128; }"));
  const double e5m2 =
      output_tolerance(parse_one("variant a { dtype fp8_e5m2; out_dtype fp16; head_dim 128; }"));
  EXPECT_LT(fp16, bf16);
  EXPECT_EQ(mixed, bf16);
  EXPECT_LT(bf16, e4m3);
  EXPECT_EQ(e4m3, e5m2);  // P is rounded to e4m3 for either
}

TEST(Compare, CosineSimilarityAndRelativeL1) {
  EXPECT_NEAR(cosine_similarity({1.0, 2.0}, {2.0, 4.0}), 1.0, 1e-15);
  EXPECT_NEAR(cosine_similarity({1.0, 0.0}, {0.0, 3.0}), 0.0, 1e-15);
  EXPECT_NEAR(relative_l1_error({1.5, -2.0}, {1.0, -2.0}), 0.5 / 3.0, 1e-15);
  EXPECT_TRUE(std::isnan(cosine_similarity({1.0}, {0.0})));
  EXPECT_TRUE(std::isnan(relative_l1_error({1.0}, {1.0, 2.0})));
}

}  // namespace
}  // namespace attnjit::harness
