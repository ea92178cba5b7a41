// 8-bit float storage formats on the host, as the GPU's saturating
// conversions (cvt.rn.satfinite) round: to nearest even, magnitudes past the
// largest finite value to it, NaN to 0x7f.
//   e4m3 (OCP "e4m3fn"): bias 7, no infinities, largest 448, S.1111.111 NaN.
//   e5m2: bias 15, IEEE-like (infinities, NaNs), largest finite 57344.
#pragma once

#include <cstdint>

namespace attnjit::harness {

inline constexpr float kE4M3Max = 448.0F;
inline constexpr float kE5M2Max = 57344.0F;

std::uint8_t to_e4m3(float value);
std::uint8_t to_e5m2(float value);
float from_e4m3(std::uint8_t bits);
float from_e5m2(std::uint8_t bits);

}  // namespace attnjit::harness
