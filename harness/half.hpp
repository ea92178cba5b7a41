// 16-bit float storage formats on the host: round to nearest even, as the
// GPU's conversions do. And the elements of every DType (fp8.hpp's too).
#pragma once

#include <attnjit/variant.hpp>

#include <cstddef>
#include <cstdint>

namespace attnjit::harness {

std::uint16_t to_bf16(float value);
std::uint16_t to_fp16(float value);
float from_bf16(std::uint16_t bits);
float from_fp16(std::uint16_t bits);

// An element of Q, K, V or O in a DType's storage, little-endian as the GPU
// reads it: 2 bytes, 1 for fp8.
std::size_t storage_size(DType type);
void store(DType type, float value, std::uint8_t* at);
float load(DType type, const std::uint8_t* at);

}  // namespace attnjit::harness
