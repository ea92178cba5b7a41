// The TMA maps a Hopper kernel reads Q, K and V through, built for one launch.
#pragma once

#include "codegen/kernel_source.hpp"
#include "runtime/cuda_driver.hpp"
#include "runtime/fwd_launch.hpp"
#include "templates/attnjit/fwd_args.h"

namespace attnjit {

// Throws InputError when a tensor breaks TMA's rules (every stride a multiple
// of 16 bytes), CudaError when the driver refuses a map. 8-bit Q and K
// (codegen::eight_bit_qk) are read as bytes, and 8-bit V (eight_bit_v) as
// bytes transposed (fp8_layout.cuh's layout).
aj::FwdMaps fwd_maps(const Driver& driver, const Variant& variant,
                     const codegen::GeneratedKernel& kernel, const DeviceTensor& q,
                     const DeviceTensor& k, const DeviceTensor& v);

// The decode family's maps: K and V [batch, kv_heads, kv_len, head_dim] in
// boxes of kernel.block_n keys; it reads Q itself, so `q` stays empty.
aj::FwdMaps decode_maps(const Driver& driver, const Variant& variant,
                        const codegen::GeneratedKernel& kernel, const DeviceTensor& k,
                        const DeviceTensor& v);

}  // namespace attnjit
