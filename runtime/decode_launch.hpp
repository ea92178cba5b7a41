// Launching the decode family (templates/attnjit/fwd_decode.cuh): the plan of
// a ragged batch, the stream-K decode kernel and the merge of split segments,
// with their partial results in stream-ordered scratch.
#pragma once

#include "runtime/fwd_launch.hpp"
#include "templates/attnjit/fwd_args.h"

#include <cstdint>
#include <vector>

namespace attnjit {

// The decode module's plan and merge kernels and its grid, found once at load.
void find_decode_functions(const Driver& driver, const Module& module,
                           const codegen::GeneratedKernel& kernel, FwdFunctions& functions);

// The decode kernel's CTAs: at most `capacity` (what fits on the GPU at once)
// and `tiles` (one tile a CTA at least). Where `segments` of equal length
// (no ragged batch) can each take a whole number of CTAs and still use at
// least 15/16 of the capacity, their count is the largest such multiple, so
// that no CTA crosses from one segment into the next: a crossing drains a
// CTA's stages and joins its warps mid-range, and its last CTAs are the grid's
// tail. The few SMs left idle cost nothing when DRAM is the limit. On the H100,
// 128 CTAs rather than 132 took b1 L131072 from 0.1986 to 0.1977 ms and b8
// L32768 from 0.3695 to 0.3682 (bench/results/h100-2026-11-25-s35-decode-grid.txt).
std::int64_t decode_cta_count(std::int64_t capacity, std::int64_t segments, std::int64_t tiles,
                              bool equal_segments);

// `args` and `extra` (the variant's params and tensors) as launch_fwd packed
// them. Throws InputError for a page table or lengths that do not fit, or
// for K and V that TMA cannot read when the kernel copies through it.
void launch_decode(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                   const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                   aj::FwdArgs args, std::vector<std::vector<unsigned char>>& extra,
                   CUstream stream);

}  // namespace attnjit
