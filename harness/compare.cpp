#include "harness/compare.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace attnjit::harness {

Comparison compare(const std::vector<double>& got, const std::vector<double>& want, DType type,
                   std::string_view what) {
  // bf16 keeps 8 significant bits, fp16 11: P and O are each rounded once.
  const double tolerance = type == DType::BF16 ? 1.6e-2 : 4e-3;
  Comparison result;
  if (got.size() != want.size()) {
    result.bad = 1;
    result.first_bad = fmt::format("{}: {} values, expected {}", what, got.size(), want.size());
    return result;
  }
  for (std::size_t i = 0; i < got.size(); ++i) {
    ++result.checked;
    const double g = got[i];
    const double w = want[i];
    bool good = false;
    if (std::isinf(w) || std::isinf(g)) {
      good = g == w;
    } else if (!std::isnan(g) && !std::isnan(w)) {
      const double error = std::fabs(g - w);
      result.max_abs_error = std::max(result.max_abs_error, error);
      good = error <= tolerance + tolerance * std::fabs(w);
    }
    if (!good && result.bad++ == 0) {
      result.first_bad = fmt::format("{}[{}] = {}, expected {}", what, i, g, w);
    }
  }
  return result;
}

double relative_l2_error(const std::vector<double>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::quiet_NaN();
  double diff = 0;
  double norm = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff += (got[i] - want[i]) * (got[i] - want[i]);
    norm += want[i] * want[i];
  }
  return norm > 0 ? std::sqrt(diff / norm) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace attnjit::harness
