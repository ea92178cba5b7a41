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

// |got - want| <= tolerance * (1 + |want|); infinities must match exactly.
Comparison compare(const std::vector<double>& got, const std::vector<double>& want,
                   double tolerance, std::string_view what);

// O's tolerance for a variant: what rounding P to its input type before P V
// and O to its output type may cost (compare.cpp's table).
double output_tolerance(const Variant& variant);
// The LSE is float, from the kernels' fast exp2 and log2 summed in their
// order: fp16's tolerance, for every variant.
inline constexpr double kLseTolerance = 4e-3;
// The LSE's: kLseTolerance, but quant sage's scores are off by their codes'
// rounding (about 0.01 on unit normals, kSageTolerance's note), which the LSE
// averages.
double lse_tolerance(const Variant& variant);

// ||got - want|| / ||want|| (L2 over every element): how far an approximation
// is from the exact output. NaN where the sizes differ or want is all zeros.
double relative_l2_error(const std::vector<double>& got, const std::vector<double>& want);

// Accuracy as SageAttention reports it, over every element: the cosine of
// the angle between got and want, and sum |got - want| / sum |want|. NaN
// where the sizes differ or want is all zeros.
double cosine_similarity(const std::vector<double>& got, const std::vector<double>& want);
double relative_l1_error(const std::vector<double>& got, const std::vector<double>& want);

}  // namespace attnjit::harness
