// The fp8 formats' encodings, against values worked out by hand from the
// OCP 8-bit float specification.
#include "harness/fp8.hpp"

#include "harness/half.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace attnjit::harness {
namespace {

TEST(Fp8, E4M3KnownEncodings) {
  EXPECT_EQ(to_e4m3(1.0F), 0x38);
  EXPECT_EQ(to_e4m3(-2.0F), 0xc0);
  EXPECT_EQ(to_e4m3(448.0F), 0x7e);
  EXPECT_EQ(to_e4m3(std::ldexp(1.0F, -6)), 0x08);  // the least normal
  EXPECT_EQ(to_e4m3(std::ldexp(1.0F, -9)), 0x01);  // the least subnormal
  EXPECT_EQ(to_e4m3(0.0F), 0x00);
  EXPECT_EQ(to_e4m3(-0.0F), 0x80);
  EXPECT_FLOAT_EQ(from_e4m3(0x38), 1.0F);
  EXPECT_FLOAT_EQ(from_e4m3(0xc0), -2.0F);
  EXPECT_FLOAT_EQ(from_e4m3(0x7e), 448.0F);
  EXPECT_FLOAT_EQ(from_e4m3(0x01), std::ldexp(1.0F, -9));
  EXPECT_FLOAT_EQ(from_e4m3(0x07), 7 * std::ldexp(1.0F, -9));
  EXPECT_TRUE(std::isnan(from_e4m3(0x7f)));
  EXPECT_TRUE(std::isnan(from_e4m3(0xff)));
}

TEST(Fp8, E5M2KnownEncodings) {
  EXPECT_EQ(to_e5m2(1.0F), 0x3c);
  EXPECT_EQ(to_e5m2(-2.0F), 0xc0);
  EXPECT_EQ(to_e5m2(57344.0F), 0x7b);
  EXPECT_EQ(to_e5m2(std::ldexp(1.0F, -16)), 0x01);  // the least subnormal
  EXPECT_EQ(to_e5m2(0.0F), 0x00);
  EXPECT_FLOAT_EQ(from_e5m2(0x3c), 1.0F);
  EXPECT_FLOAT_EQ(from_e5m2(0x7b), 57344.0F);
  EXPECT_FLOAT_EQ(from_e5m2(0x01), std::ldexp(1.0F, -16));
  EXPECT_EQ(from_e5m2(0x7c), INFINITY);
  EXPECT_EQ(from_e5m2(0xfc), -INFINITY);
  EXPECT_TRUE(std::isnan(from_e5m2(0x7d)));
  EXPECT_TRUE(std::isnan(from_e5m2(0xff)));
}

TEST(Fp8, TiesRoundToEven) {
  // Between 1 (0x38, even) and 1.125 (0x39), then 1.125 and 1.25 (0x3a).
  EXPECT_EQ(to_e4m3(1.0625F), 0x38);
  EXPECT_EQ(to_e4m3(1.1875F), 0x3a);
  EXPECT_EQ(to_e4m3(1.0626F), 0x39);
  // Subnormals: half the least rounds to 0, three halves to 2^-8.
  EXPECT_EQ(to_e4m3(std::ldexp(1.0F, -10)), 0x00);
  EXPECT_EQ(to_e4m3(3 * std::ldexp(1.0F, -10)), 0x02);
  // Up into the next binade: 1.9375 is between 1.875 (0x3f) and 2 (0x40).
  EXPECT_EQ(to_e4m3(1.9375F), 0x40);
  // e5m2: 1.125 between 1 (0x3c) and 1.25 (0x3d); 1.375 up to 1.5 (0x3e).
  EXPECT_EQ(to_e5m2(1.125F), 0x3c);
  EXPECT_EQ(to_e5m2(1.375F), 0x3e);
}

TEST(Fp8, SaturatesAndKeepsNan) {
  EXPECT_EQ(to_e4m3(464.0F), 0x7e);  // halfway to 480, which e4m3 lacks
  EXPECT_EQ(to_e4m3(1e6F), 0x7e);
  EXPECT_EQ(to_e4m3(-INFINITY), 0xfe);
  EXPECT_EQ(to_e4m3(NAN), 0x7f);
  EXPECT_EQ(to_e5m2(61440.0F), 0x7b);
  EXPECT_EQ(to_e5m2(INFINITY), 0x7b);
  EXPECT_EQ(to_e5m2(-1e9F), 0xfb);
  EXPECT_EQ(to_e5m2(NAN), 0x7f);
}

TEST(Fp8, EveryValueRoundTrips) {
  for (unsigned bits = 0; bits < 256; ++bits) {
    const auto byte = static_cast<std::uint8_t>(bits);
    if (const float x = from_e4m3(byte); !std::isnan(x)) {
      EXPECT_EQ(to_e4m3(x), byte) << x;
    }
    if (const float x = from_e5m2(byte); std::isfinite(x)) {
      EXPECT_EQ(to_e5m2(x), byte) << x;
    }
  }
}

TEST(Storage, ElementsByDtype) {
  EXPECT_EQ(storage_size(DType::BF16), 2U);
  EXPECT_EQ(storage_size(DType::FP8E4M3), 1U);
  std::uint8_t bytes[2] = {0, 0xaa};
  store(DType::FP8E5M2, -2.0F, bytes);
  EXPECT_EQ(bytes[0], 0xc0);
  EXPECT_EQ(bytes[1], 0xaa);  // one byte only
  EXPECT_EQ(load(DType::FP8E5M2, bytes), -2.0F);
  store(DType::F16, 1.0F, bytes);  // 0x3c00, little-endian as the GPU reads it
  EXPECT_EQ(bytes[0], 0x00);
  EXPECT_EQ(bytes[1], 0x3c);
  EXPECT_EQ(load(DType::F16, bytes), 1.0F);
  store(DType::BF16, -3.0F, bytes);
  EXPECT_EQ(load(DType::BF16, bytes), -3.0F);
}

}  // namespace
}  // namespace attnjit::harness
