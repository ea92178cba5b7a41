#include "harness/half.hpp"

#include "harness/fp8.hpp"

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

std::size_t storage_size(DType type) {
  return type == DType::FP8E4M3 || type == DType::FP8E5M2 ? 1 : 2;
}

void store(DType type, float value, std::uint8_t* at) {
  std::uint16_t bits = 0;
  switch (type) {
    case DType::F16: bits = to_fp16(value); break;
    case DType::BF16: bits = to_bf16(value); break;
    case DType::FP8E4M3: bits = to_e4m3(value); break;
    case DType::FP8E5M2: bits = to_e5m2(value); break;
  }
  at[0] = static_cast<std::uint8_t>(bits & 0xffU);
  if (storage_size(type) == 2) at[1] = static_cast<std::uint8_t>(bits >> 8);
}

float load(DType type, const std::uint8_t* at) {
  const auto bits = static_cast<std::uint16_t>(
      storage_size(type) == 2 ? at[0] | (static_cast<unsigned>(at[1]) << 8) : at[0]);
  switch (type) {
    case DType::F16: return from_fp16(bits);
    case DType::BF16: return from_bf16(bits);
    case DType::FP8E4M3: return from_e4m3(static_cast<std::uint8_t>(bits));
    case DType::FP8E5M2: return from_e5m2(static_cast<std::uint8_t>(bits));
  }
  return NAN;
}

}  // namespace attnjit::harness
