// quant sage's quantisation kernels (templates/attnjit/sage_quant.cuh),
// enqueued before the Hopper forward kernel that reads what they leave.
#pragma once

#include "runtime/cuda_driver.hpp"
#include "runtime/fwd_launch.hpp"
#include "templates/attnjit/fwd_args.h"
#include <attnjit/variant.hpp>

#include <optional>

namespace attnjit {

// What quant sage's kernels leave for the forward kernel.
struct SageOperands {
  DeviceTensor q;  // codes [batch, heads, q_len, head_dim], contiguous
  DeviceTensor k;  // codes [batch, kv_heads, kv_len, head_dim], contiguous
  // e4m3 [batch, kv_heads, head_dim_v, padded keys] (fp8_layout.cuh), or
  // the problem's own V for 16-bit PV
  DeviceTensor v;
  aj::SageScales scales{};
};

// Enqueues the kernels of `functions` (FwdFunctions::sage) on the problem's
// 16-bit Q, K and V, into `scratch`, which this emplaces and which must live
// until the forward kernel is enqueued.
SageOperands quantise_sage(const Driver& driver, const SageFunctions& functions,
                           const Variant& variant, const FwdProblem& problem,
                           std::optional<StreamScratch>& scratch, CUstream stream);

}  // namespace attnjit
