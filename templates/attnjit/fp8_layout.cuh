// fp8 V in the layout the Hopper family's PV product reads (fwd_sm90.cuh):
// wgmma takes an fp8 B operand K-major only, so V [keys, head_dim_v] becomes
// Vt [head_dim_v, keys], and the keys of each 16 are ordered as the kernel's
// P fragments hold them: logical key 4 * t + i is real key 8 * (i / 2) +
// 2 * t + i % 2. Keys past kv_len, up to the padded length, are zeros, so
// that no NaN bit pattern meets a zero probability.
#pragma once

#include "attnjit/fwd_args.h"
#include "attnjit/prelude.cuh"

namespace aj {

// The real key of logical key p of the transposed V.
AJ_HD int fp8_v_key(int p) {
  const int i = p & 3, t = (p >> 2) & 3;
  return (p & ~15) | (8 * (i >> 1) + 2 * t + (i & 1));
}

#ifdef __CUDACC_RTC__

constexpr int kFp8VTile = 64;  // keys and columns of a CTA's square of V

using Fp8VSquare = unsigned char[kFp8VTile][kFp8VTile + 16];  // [key][column], padded

// Thread t of 256 writes column t / 4 of `square` (keys key0.. of columns
// col0..), 16 keys from key t % 4 * 16 on, to vt in 16-byte stores.
__device__ __forceinline__ void store_v_square(const Fp8VSquare& square, unsigned char* vt,
                                               int plane, int head_dim_v, int padded_len, int key0,
                                               int col0) {
  const int col = threadIdx.x / 4, chunk = threadIdx.x % 4 * 16;
  const int p0 = key0 + chunk;
  if (p0 >= padded_len) return;
  unsigned word[4];
#pragma unroll
  for (int w = 0; w < 4; ++w) {
    word[w] = 0;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      word[w] |= (unsigned)square[fp8_v_key(chunk + 4 * w + j)][col] << (8 * j);
    }
  }
  unsigned char* out = vt + ((long long)plane * head_dim_v + col0 + col) * padded_len + p0;
  *reinterpret_cast<uint4*>(out) = make_uint4(word[0], word[1], word[2], word[3]);
}

// A CTA of 256 threads per 64 x 64 square of one (batch, KV head): 16-byte loads of the
// square's rows into shared memory, 16-byte stores of its columns.
__device__ __forceinline__ void fp8_v_layout(const Fp8VLayoutArgs& a) {
  __shared__ Fp8VSquare square;
  const int plane = blockIdx.z;
  const int key0 = blockIdx.x * kFp8VTile, col0 = blockIdx.y * kFp8VTile;
  const unsigned char* v =
      a.v + plane / a.kv_heads * a.v_stride[0] + plane % a.kv_heads * a.v_stride[1];
  const int row = threadIdx.x / 4, chunk = threadIdx.x % 4 * 16;
  uint4 piece = make_uint4(0, 0, 0, 0);
  if (key0 + row < a.kv_len) {
    piece =
        *reinterpret_cast<const uint4*>(v + (long long)(key0 + row) * a.v_stride[2] + col0 + chunk);
  }
  *reinterpret_cast<uint4*>(&square[row][chunk]) = piece;
  __syncthreads();
  store_v_square(square, a.vt, plane, a.head_dim_v, a.padded_len, key0, col0);
}

#endif

}  // namespace aj
