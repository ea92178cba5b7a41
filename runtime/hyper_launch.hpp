// Running an `approx hyper` variant on a prefill family: the plan of
// language/hyper_plan.hpp as launches of one forward kernel (the kernel
// variant of codegen/hyper_kernels.hpp) and the row kernels around it. The
// rows' hash codes first; the exact part writes O and the LSE; each level
// then sorts its segments' rows by code, draws its sampled keys, gathers Q, K
// and V into compact planes, runs the kernel on them and merges its O and LSE
// into the call's by log-sum-exp. Every step is enqueued on the stream, with
// stream-ordered scratch.
#pragma once

#include "runtime/fwd_launch.hpp"
#include "runtime/row_kernels.hpp"

namespace attnjit {

// The kernels of templates/attnjit/hyper.cuh (and the row sort and permute)
// in a prefill module of an approx hyper variant.
struct HyperFunctions {
  RowFunctions rows;
  CUfunction hash = nullptr;
  CUfunction samples = nullptr;
  CUfunction merge = nullptr;
};
HyperFunctions hyper_functions(const Module& module);

// `kernel_variant` is what the module's forward kernel computes
// (codegen::hyper_kernel_variant). Throws InputError as launch_fwd does, and
// for a causal call with q_len != kv_len past min_seq.
void launch_hyper(const Driver& driver, const FwdFunctions& functions, const HyperFunctions& hyper,
                  const Variant& variant, const Variant& kernel_variant,
                  const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                  CUstream stream);

}  // namespace attnjit
