#include "runtime/variant_launch.hpp"

#include "codegen/hash_order.hpp"

namespace attnjit {

VariantKernels variant_kernels(const Driver& driver, const Module& module,
                               const codegen::GeneratedKernel& kernel, const std::string& entry,
                               const Variant& variant) {
  VariantKernels out;
  // codegen::generate compiles the sorted form for the prefill families.
  if (variant.hash_sparsity() && !kernel.decode) {
    out.sorted = codegen::hash_sorted_variant(variant);
  }
  out.functions = fwd_functions(driver, module, kernel, entry, out.sorted ? *out.sorted : variant);
  if (variant.hash_sparsity()) out.hash = hash_functions(module);
  return out;
}

void launch_variant(const Driver& driver, const VariantKernels& kernels, const Variant& variant,
                    const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                    CUstream stream) {
  if (kernels.hash) {
    launch_hash(driver, kernels.functions, *kernels.hash, variant,
                kernels.sorted ? &*kernels.sorted : nullptr, kernel, problem, stream);
  } else {
    launch_fwd(driver, kernels.functions, variant, kernel, problem, stream);
  }
}

}  // namespace attnjit
