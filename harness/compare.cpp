#include "harness/compare.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <utility>

#include <fmt/format.h>

namespace attnjit::harness {
namespace {

// What rounding P (in [0, 1]) and O to a type costs O, absolute and relative
// alike, for V of unit variance. bf16 keeps 8 significant bits, fp16 11.
// fp8 inputs: the kernel rounds P to e4m3 for both fp8 types (as
// FlashAttention-3 does), whose one rounding is off by up to 2^-4 relative;
// over many keys the errors average out, but a row that a few keys dominate
// keeps them: a simulation of that kernel's arithmetic on unit normals
// (per-head descales, 128-key tiles, O in bf16) came within 0.045 (1 + |O|)
// of the exact O at --qk-scale 1 and 0.056 at 3, over 2 to 1000 keys.
// Quantising Q, K and V costs nothing here: the reference is given the
// dequantised values.
constexpr std::array kTolerances = {
    std::pair{DType::F16, 4e-3},
    std::pair{DType::BF16, 1.6e-2},
    std::pair{DType::FP8E4M3, 0.0625},
    std::pair{DType::FP8E5M2, 0.0625},
};

// quant sage: the reference sees the 16-bit inputs, the kernel their codes.
// P's e4m3 codes are off by up to 1/16 of each probability (and the kernel
// normalises by the sum of the unrounded ones), V's by up to 1/16 of each
// value, and int8 codes of Q and K move the scores of unit normals by about
// 0.01. In a row that two or three keys of opposite signs dominate, O is
// small beside the errors of its terms: on the H100 the GPU tests' inputs
// came within 0.13 (1 + |O|) of the exact O, and their LSEs within 0.02.
constexpr double kSageTolerance = 0.1875;
constexpr double kSageLseTolerance = 0.05;

double type_tolerance(DType type) {
  for (const auto& [entry, value] : kTolerances) {
    if (entry == type) return value;
  }
  return kTolerances.back().second;
}

}  // namespace

double output_tolerance(const Variant& variant) {
  if (variant.quant()) return std::max(kSageTolerance, type_tolerance(variant.out_dtype()));
  return std::max(type_tolerance(variant.dtype()), type_tolerance(variant.out_dtype()));
}

double lse_tolerance(const Variant& variant) {
  return variant.quant() ? kSageLseTolerance : kLseTolerance;
}

Comparison compare(const std::vector<double>& got, const std::vector<double>& want,
                   double tolerance, std::string_view what) {
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

double cosine_similarity(const std::vector<double>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::quiet_NaN();
  double dot = 0;
  double got_norm = 0;
  double want_norm = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    dot += got[i] * want[i];
    got_norm += got[i] * got[i];
    want_norm += want[i] * want[i];
  }
  return want_norm > 0 && got_norm > 0 ? dot / std::sqrt(got_norm * want_norm)
                                       : std::numeric_limits<double>::quiet_NaN();
}

double relative_l1_error(const std::vector<double>& got, const std::vector<double>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::quiet_NaN();
  double diff = 0;
  double norm = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    diff += std::fabs(got[i] - want[i]);
    norm += std::fabs(want[i]);
  }
  return norm > 0 ? diff / norm : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace attnjit::harness
