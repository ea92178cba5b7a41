// One call that runs any variant from its module: the forward kernel (with
// its classifier) alone, or the whole pipeline of hash_launch.hpp for
// `sparsity hash` or of hyper_launch.hpp for `approx hyper`. The engine, the
// tuner's worker and the GPU tests all launch through it.
#pragma once

#include "runtime/hash_launch.hpp"
#include "runtime/hyper_launch.hpp"

#include <optional>
#include <string>

namespace attnjit {

struct VariantKernels {
  std::optional<Variant> sorted;  // what a prefill forward kernel computes, where not the variant
  FwdFunctions functions;
  std::optional<HashFunctions> hash;    // for `sparsity hash`
  std::optional<HyperFunctions> hyper;  // for `approx hyper` on a prefill family
};
VariantKernels variant_kernels(const Driver& driver, const Module& module,
                               const codegen::GeneratedKernel& kernel, const std::string& entry,
                               const Variant& variant);

void launch_variant(const Driver& driver, const VariantKernels& kernels, const Variant& variant,
                    const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                    CUstream stream);

}  // namespace attnjit
