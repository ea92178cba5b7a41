#include "runtime/variant_launch.hpp"

#include "codegen/family.hpp"
#include <attnjit/error.hpp>

#include <fmt/format.h>

namespace attnjit {

VariantKernels variant_kernels(const Driver& driver, const Module& module,
                               const codegen::GeneratedKernel& kernel, const std::string& entry,
                               const Variant& variant) {
  VariantKernels out;
  if (!kernel.decode) out.sorted = codegen::prefill_kernel_variant(variant);
  out.functions = fwd_functions(driver, module, kernel, entry, out.sorted ? *out.sorted : variant);
  if (variant.hash_sparsity()) out.hash = hash_functions(module);
  if (variant.hyper() && !kernel.decode) out.hyper = hyper_functions(module);
  return out;
}

void launch_variant(const Driver& driver, const VariantKernels& kernels, const Variant& variant,
                    const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                    CUstream stream) {
  if (variant.hyper() && kernel.decode && problem.shape.q_len >= variant.hyper()->min_seq) {
    throw InputError(fmt::format(
        "variant '{}': the decode family computes approx hyper only below min_seq ({}) query "
        "rows, got {}",
        variant.name(), variant.hyper()->min_seq, problem.shape.q_len));
  }
  if (kernels.hyper) {
    launch_hyper(driver, kernels.functions, *kernels.hyper, variant, *kernels.sorted, kernel,
                 problem, stream);
  } else if (kernels.hash) {
    launch_hash(driver, kernels.functions, *kernels.hash, variant,
                kernels.sorted ? &*kernels.sorted : nullptr, kernel, problem, stream);
  } else {
    launch_fwd(driver, kernels.functions, variant, kernel, problem, stream);
  }
}

}  // namespace attnjit
