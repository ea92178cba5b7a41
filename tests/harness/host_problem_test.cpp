// Random problems on the host: the stored elements and the values the
// reference sees agree, and fp8 inputs carry a descale per head.
#include "harness/host_problem.hpp"

#include "harness/fp8.hpp"
#include "harness/half.hpp"
#include "tests/language/test_util.hpp"
#include <attnjit/language.hpp>

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

namespace attnjit::harness {
namespace {

using testing::parse_one;

// Every element of x, widened from its storage and scaled by its head's
// descale (1 without descales), is the value the reference sees.
void expect_dequantised(DType type, const std::vector<std::uint8_t>& bytes,
                        const std::vector<double>& values, const std::vector<float>& descales) {
  const std::size_t size = storage_size(type);
  ASSERT_EQ(bytes.size(), values.size() * size);
  const std::size_t per_head = descales.empty() ? values.size() : values.size() / descales.size();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double descale = descales.empty() ? 1.0 : descales[i / per_head];
    ASSERT_EQ(values[i], static_cast<double>(load(type, &bytes[i * size])) * descale) << i;
  }
}

TEST(HostProblem, SixteenBitInputsHaveNoDescales) {
  const Variant variant = parse_one("variant v { dtype bf16; head_dim 64; }");
  const HostProblem p = random_problem(variant, {2, 4, 2, 9, 5}, {});
  EXPECT_EQ(p.q_bytes.size(), std::size_t{2} * 4 * 9 * 64 * 2);
  EXPECT_TRUE(p.q_descale.empty() && p.k_descale.empty() && p.v_descale.empty());
  expect_dequantised(DType::BF16, p.q_bytes, p.q, {});
  expect_dequantised(DType::BF16, p.v_bytes, p.v, {});
}

// Inputs are drawn in pieces on several threads: a seed still gives one
// problem, and another seed another.
TEST(HostProblem, ASeedGivesOneProblem) {
  const Variant variant = parse_one("variant v { dtype fp16; head_dim 64; }");
  const AttentionShape shape{1, 2, 2, 1500, 1100};  // planes of several draw pieces
  const HostProblem a = random_problem(variant, shape, {});
  const HostProblem b = random_problem(variant, shape, {});
  ProblemOptions other;
  other.seed = 2;
  const HostProblem c = random_problem(variant, shape, other);
  EXPECT_EQ(a.q, b.q);
  EXPECT_EQ(a.k, b.k);
  EXPECT_EQ(a.v_bytes, b.v_bytes);
  EXPECT_NE(a.k, c.k);
  // Pieces are not copies of one another.
  EXPECT_NE(std::vector<double>(a.q.begin(), a.q.begin() + 64),
            std::vector<double>(a.q.begin() + 65536, a.q.begin() + 65536 + 64));
}

TEST(HostProblem, Fp8HeadsAreScaledToFillTheFormat) {
  const Variant variant = parse_one("variant f { dtype fp8_e4m3; head_dim 128; }");
  ProblemOptions options;
  options.qk_scale = 3.0;
  const AttentionShape shape{2, 4, 2, 9, 5};
  const HostProblem p = random_problem(variant, shape, options);
  ASSERT_EQ(p.q_descale.size(), 2U * 4);
  ASSERT_EQ(p.k_descale.size(), 2U * 2);
  ASSERT_EQ(p.v_descale.size(), 2U * 2);
  EXPECT_EQ(p.q_bytes.size(), std::size_t{2} * 4 * 9 * 128);
  expect_dequantised(DType::FP8E4M3, p.q_bytes, p.q, p.q_descale);
  expect_dequantised(DType::FP8E4M3, p.k_bytes, p.k, p.k_descale);
  expect_dequantised(DType::FP8E4M3, p.v_bytes, p.v, p.v_descale);
  // Each head's largest magnitude is the format's largest value, 448.
  const std::size_t per_head = std::size_t{9} * 128;
  for (std::size_t head = 0; head < p.q_descale.size(); ++head) {
    const auto first = p.q_bytes.begin() + static_cast<std::ptrdiff_t>(head * per_head);
    const auto largest =
        std::max_element(first, first + static_cast<std::ptrdiff_t>(per_head),
                         [](std::uint8_t a, std::uint8_t b) { return (a & 0x7fU) < (b & 0x7fU); });
    EXPECT_EQ(*largest & 0x7fU, 0x7eU) << head;
  }
  // Q and K keep the deviation asked for; V has unit variance.
  EXPECT_NEAR(p.q_descale[0] * kE4M3Max, 3.0 * 3.3, 3.0 * 1.5);
  EXPECT_NEAR(p.v_descale[0] * kE4M3Max, 3.0, 1.5);
}

TEST(HostProblem, Fp8E5M2AndEmptyHeads) {
  const Variant variant = parse_one("variant f { dtype fp8_e5m2; head_dim 128; }");
  const HostProblem p = random_problem(variant, {1, 2, 1, 3, 0}, {});
  // No keys: a descale of 1 each, and nothing stored.
  EXPECT_EQ(p.k_descale, std::vector<float>{1.0F});
  EXPECT_TRUE(p.k_bytes.empty());
  ASSERT_EQ(p.q_descale.size(), 2U);
  expect_dequantised(DType::FP8E5M2, p.q_bytes, p.q, p.q_descale);
  const auto largest =
      std::max_element(p.q.begin(), p.q.begin() + std::ptrdiff_t{3} * 128,
                       [](double a, double b) { return std::fabs(a) < std::fabs(b); });
  EXPECT_FLOAT_EQ(static_cast<float>(std::fabs(*largest)), p.q_descale[0] * kE5M2Max);
}

// Block scales: a factor per query row, per 64 keys of a head and per V
// channel, each block's largest magnitude at the format's largest value.
TEST(HostProblem, Fp8BlocksAreScaledToFillTheFormat) {
  const Variant variant = parse_one("variant f { dtype fp8_e4m3; head_dim 128; }");
  ProblemOptions options;
  options.fp8_block_scales = true;
  const HostProblem p = random_problem(variant, {1, 2, 1, 9, 130}, options);
  EXPECT_TRUE(p.fp8_block_scales);
  ASSERT_EQ(p.q_descale.size(), 2U * 9);
  ASSERT_EQ(p.k_descale.size(), 3U);  // ceil(130 / 64) blocks of one KV head
  ASSERT_EQ(p.v_descale.size(), 128U);
  const auto check = [](const std::vector<std::uint8_t>& bytes, const std::vector<double>& values,
                        const std::vector<float>& descales, const auto& block_of) {
    std::vector<std::uint8_t> largest(descales.size(), 0);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      const std::size_t block = block_of(i);
      ASSERT_EQ(values[i], static_cast<double>(from_e4m3(bytes[i])) * descales[block]) << i;
      largest[block] = std::max<std::uint8_t>(largest[block], bytes[i] & 0x7fU);
    }
    for (const std::uint8_t code : largest) EXPECT_EQ(code, 0x7eU);
  };
  check(p.q_bytes, p.q, p.q_descale, [](std::size_t i) { return i / 128; });
  check(p.k_bytes, p.k, p.k_descale, [](std::size_t i) { return i / 128 / 64; });
  check(p.v_bytes, p.v, p.v_descale, [](std::size_t i) { return i % 128; });
}

// Outlier channels: the same few channels of Q and K grow by 10-100x, V
// does not; the mean square of a channel over its rows shows it.
TEST(HostProblem, OutlierChannelsScaleQAndKAlike) {
  const Variant variant = parse_one("variant v { dtype bf16; head_dim 64; }");
  ProblemOptions options;
  options.outlier_channels = 2;
  const HostProblem p = random_problem(variant, {1, 1, 1, 512, 512}, options);
  const auto big_channels = [](const std::vector<double>& x) {
    std::vector<int> out;
    for (int c = 0; c < 64; ++c) {
      double square = 0;
      for (std::size_t r = 0; r < 512; ++r) square += x[r * 64 + c] * x[r * 64 + c];
      if (square / 512 > 25.0) out.push_back(c);
    }
    return out;
  };
  const std::vector<int> q = big_channels(p.q);
  EXPECT_FALSE(q.empty());
  EXPECT_LE(q.size(), 2U);
  EXPECT_EQ(big_channels(p.k), q);
  EXPECT_TRUE(big_channels(p.v).empty());
}

}  // namespace
}  // namespace attnjit::harness
