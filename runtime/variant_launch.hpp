// One call that runs any variant from its module: the forward kernel (with
// its classifier) alone, or for `sparsity hash` the whole pipeline of
// hash_launch.hpp. The engine, the tuner's worker and the GPU tests all
// launch through it.
#pragma once

#include "runtime/hash_launch.hpp"

#include <optional>
#include <string>

namespace attnjit {

struct VariantKernels {
  std::optional<Variant> sorted;  // what the forward kernel computes, where not the variant
  FwdFunctions functions;
  std::optional<HashFunctions> hash;  // for `sparsity hash`
};
VariantKernels variant_kernels(const Driver& driver, const Module& module,
                               const codegen::GeneratedKernel& kernel, const std::string& entry,
                               const Variant& variant);

void launch_variant(const Driver& driver, const VariantKernels& kernels, const Variant& variant,
                    const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                    CUstream stream);

}  // namespace attnjit
