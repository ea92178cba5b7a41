// The warpgroup MMA instructions a Hopper kernel needs, as CUDA source: one
// inline-assembly function per shape, since a wgmma names each of its N/2
// accumulator registers and N is the config's.
#pragma once

#include <string>

namespace attnjit::codegen {

// struct `name` with
//   qk(float (&d)[n_qk / 8][4], u64 a_desc, u64 b_desc, int accumulate):
//     m64n{n_qk}k16, A and B K-major in shared memory; accumulate 0 overwrites d
//   pv(float (&d)[n_pv / 8][4], const u32 (&a)[4], u64 b_desc):
//     m64n{n_pv}k16, A from registers, B N-major in shared memory, accumulating
std::string wgmma_struct(const std::string& name, int n_qk, int n_pv, bool bf16);

}  // namespace attnjit::codegen
