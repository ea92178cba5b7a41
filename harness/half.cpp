#include "harness/half.hpp"

#include <bit>
#include <cmath>

namespace attnjit::harness {

std::uint16_t to_bf16(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  if (std::isnan(value)) return static_cast<std::uint16_t>((bits >> 16) | 0x40U);
  const std::uint32_t rounding = 0x7fffU + ((bits >> 16) & 1U);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

float from_bf16(std::uint16_t bits) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
}

std::uint16_t to_fp16(float value) {
  const auto bits = std::bit_cast<std::uint32_t>(value);
  const std::uint32_t sign = (bits >> 16) & 0x8000U;
  if (std::isnan(value)) return static_cast<std::uint16_t>(sign | 0x7e00U);
  const float magnitude = std::fabs(value);
  if (magnitude >= 65520.0F) return static_cast<std::uint16_t>(sign | 0x7c00U);
  if (magnitude < 6.103515625e-05F) {
    // Subnormal: a multiple of 2^-24, rounded to nearest even by nearbyint.
    const auto units = static_cast<std::uint32_t>(std::nearbyint(magnitude * 16777216.0F));
    return static_cast<std::uint16_t>(sign | units);
  }
  const std::uint32_t exponent = ((bits >> 23) & 0xffU) - 127U + 15U;
  std::uint32_t mantissa = bits & 0x7fffffU;
  std::uint32_t half = (exponent << 10) | (mantissa >> 13);
  const std::uint32_t rest = mantissa & 0x1fffU;
  if (rest > 0x1000U || (rest == 0x1000U && (half & 1U) != 0))
    ++half;  // may carry into the exponent
  return static_cast<std::uint16_t>(sign | half);
}

float from_fp16(std::uint16_t bits) {
  const float sign = (bits & 0x8000U) != 0 ? -1.0F : 1.0F;
  const int exponent = (bits >> 10) & 0x1f;
  const int mantissa = bits & 0x3ff;
  if (exponent == 0) return sign * std::ldexp(static_cast<float>(mantissa), -24);
  if (exponent == 31) return mantissa != 0 ? NAN : sign * INFINITY;
  return sign * std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
}

std::uint16_t to_bits(DType type, float value) {
  return type == DType::BF16 ? to_bf16(value) : to_fp16(value);
}

float from_bits(DType type, std::uint16_t bits) {
  return type == DType::BF16 ? from_bf16(bits) : from_fp16(bits);
}

}  // namespace attnjit::harness
