// The warpgroup MMA instructions a Hopper kernel needs, as CUDA source: one
// inline-assembly function per shape, since a wgmma names each of its N/2
// accumulator registers and N is the config's.
#pragma once

#include "codegen/io_rules.hpp"

#include <string>

namespace attnjit::codegen {

// struct `name` over operands of `types`, with kK (the k step: 16 for 16-bit
// types, 32 for 8-bit ones) and
//   qk(float (&d)[n_qk / 8][4], u64 a_desc, u64 b_desc, int accumulate):
//     m64n{n_qk}k{kK}, A and B K-major in shared memory; accumulate 0
//     overwrites d. s8 accumulates int32: d is int (&)[n_qk / 8][4].
//   pv(float (&d)[n_pv / 8][4], const u32 (&a)[4], u64 b_desc):
//     m64n{n_pv}k{kK}, A from registers (e4m3 for fp8 V), B in shared memory
//     (N-major for 16-bit types, K-major for fp8), accumulating
std::string wgmma_struct(const std::string& name, int n_qk, int n_pv, ProductTypes types);

}  // namespace attnjit::codegen
