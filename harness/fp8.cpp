#include "harness/fp8.hpp"

#include <algorithm>
#include <cmath>

namespace attnjit::harness {
namespace {

struct Format {
  int mantissa_bits;
  int bias;
  float max;
};
constexpr Format kE4M3{3, 7, kE4M3Max};
constexpr Format kE5M2{2, 15, kE5M2Max};
constexpr std::uint8_t kNan = 0x7f;  // in both formats

std::uint8_t encode(const Format& f, float value) {
  if (std::isnan(value)) return kNan;
  const std::uint8_t sign = std::signbit(value) ? 0x80U : 0U;
  // Saturates, infinities too, as the satfinite conversions do.
  const float magnitude = std::min(std::fabs(value), f.max);
  // The value's binade, or the subnormals' (which share the least normal
  // exponent, and take zero: ilogb(0) is very negative); in binade e the
  // spacing of representable values is 2^(e - m).
  const int exponent = std::max(std::ilogb(magnitude), 1 - f.bias);
  // A whole number of spacings, ties to even (nearbyint's default mode); the
  // largest finite value is on the grid, so this never passes it.
  const auto units =
      static_cast<unsigned>(std::nearbyint(std::ldexp(magnitude, f.mantissa_bits - exponent)));
  // Units of 2^m and more carry the implicit leading one into the exponent
  // field, so one sum encodes normals, subnormals and a round up a binade.
  const unsigned bits = (static_cast<unsigned>(exponent + f.bias - 1) << f.mantissa_bits) + units;
  return static_cast<std::uint8_t>(sign | bits);
}

float decode(const Format& f, std::uint8_t bits) {
  const float sign = (bits & 0x80U) != 0 ? -1.0F : 1.0F;
  const int exponent_field = (bits & 0x7f) >> f.mantissa_bits;
  const int mantissa = bits & ((1 << f.mantissa_bits) - 1);
  if (exponent_field == 0) {
    return sign * std::ldexp(static_cast<float>(mantissa), 1 - f.bias - f.mantissa_bits);
  }
  return sign * std::ldexp(static_cast<float>(mantissa + (1 << f.mantissa_bits)),
                           exponent_field - f.bias - f.mantissa_bits);
}

}  // namespace

std::uint8_t to_e4m3(float value) { return encode(kE4M3, value); }
std::uint8_t to_e5m2(float value) { return encode(kE5M2, value); }

float from_e4m3(std::uint8_t bits) {
  if ((bits & 0x7fU) == 0x7fU) return NAN;
  return decode(kE4M3, bits);
}

float from_e5m2(std::uint8_t bits) {
  if ((bits & 0x7cU) == 0x7cU) {  // the exponent field all ones
    if ((bits & 0x03U) != 0) return NAN;
    return (bits & 0x80U) != 0 ? -INFINITY : INFINITY;
  }
  return decode(kE5M2, bits);
}

}  // namespace attnjit::harness
