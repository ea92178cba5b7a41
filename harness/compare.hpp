// Kernel output against the reference, with tolerances by storage type.
#pragma once

#include <attnjit/variant.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace attnjit::harness {

struct Comparison {
  std::int64_t checked = 0;
  std::int64_t bad = 0;  // outside tolerance, NaN, or -inf where the reference is not
  double max_abs_error = 0;
  std::string first_bad;  // where and what, for the message
  [[nodiscard]] bool ok() const { return bad == 0; }
};

// |got - want| <= atol + rtol * |want|; infinities must match exactly. The
// tolerances cover rounding P to the storage type before P V and rounding O.
Comparison compare(const std::vector<double>& got, const std::vector<double>& want, DType type,
                   std::string_view what);

// ||got - want|| / ||want|| (L2 over every element): how far an approximation
// is from the exact output. NaN where the sizes differ or want is all zeros.
double relative_l2_error(const std::vector<double>& got, const std::vector<double>& want);

}  // namespace attnjit::harness
