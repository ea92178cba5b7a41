// Launching the decode family (templates/attnjit/fwd_decode.cuh): the plan of
// a ragged batch, the stream-K decode kernel and the merge of split segments,
// with their partial results in stream-ordered scratch.
#pragma once

#include "runtime/fwd_launch.hpp"
#include "templates/attnjit/fwd_args.h"

#include <vector>

namespace attnjit {

// The decode module's plan and merge kernels and its grid, found once at load.
void find_decode_functions(const Driver& driver, const Module& module,
                           const codegen::GeneratedKernel& kernel, FwdFunctions& functions);

// `args` and `extra` (the variant's params and tensors) as launch_fwd packed
// them. Throws InputError for a page table or lengths that do not fit, or
// for K and V that TMA cannot read when the kernel copies through it.
void launch_decode(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                   const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                   aj::FwdArgs args, std::vector<std::vector<unsigned char>>& extra,
                   CUstream stream);

}  // namespace attnjit
