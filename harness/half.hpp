// 16-bit float storage formats on the host: round to nearest even, as the
// GPU's conversions do.
#pragma once

#include <attnjit/variant.hpp>

#include <cstdint>

namespace attnjit::harness {

std::uint16_t to_bf16(float value);
std::uint16_t to_fp16(float value);
float from_bf16(std::uint16_t bits);
float from_fp16(std::uint16_t bits);

// For DType::BF16 or DType::F16.
std::uint16_t to_bits(DType type, float value);
float from_bits(DType type, std::uint16_t bits);

}  // namespace attnjit::harness
