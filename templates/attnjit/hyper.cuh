// The kernels of `approx hyper` that run around the forward kernel (the row
// sort and permutes of hash_sparsity.cuh besides): the rows' LSH codes, the
// sampled key columns, and the merge of a level's output into the call's.
// The hash directions and the draws are host code too, so that the CPU
// reference computes the same thing.
#pragma once

#include "attnjit/fwd_args.h"
#include "attnjit/hash_sparsity.cuh"
#include "attnjit/prelude.cuh"
#ifdef __CUDACC_RTC__
#include "attnjit/fragment.cuh"  // neg_inf
#endif

namespace aj {

// The position of `bits` in the reflected Gray code: sorting rows by it puts
// hash codes one bit apart next to each other, which is what makes the
// paper's sortLSH blocks hold similar rows.
AJ_HD int gray_rank(unsigned bits) {
  for (unsigned shift = 1; shift < 32; shift *= 2) bits ^= bits >> shift;
  return (int)bits;
}

// Draw m of plane `plane` at a level, in [0, range): a counter-based hash,
// so each draw stands alone.
AJ_HD int hyper_draw(unsigned seed, unsigned plane, unsigned m, int range) {
  unsigned h = seed * 0x9E3779B1U ^ plane * 0x85EBCA77U ^ (m + 0x165667B1U) * 0xC2B2AE3DU;
  h ^= h >> 16;
  h *= 0x7FEB352DU;
  h ^= h >> 15;
  h *= 0x846CA68BU;
  h ^= h >> 16;
  return (int)(h % (unsigned)range);
}

#ifdef __CUDACC_RTC__

// A warp per row: bit i of its code is whether its dot product with the
// direction of lsh_sign(i, .) is positive. The CTA's warps share the
// directions, kept in shared memory as sign bits per column, and each lane
// reads its columns of the row once.
template <bool kBf16, int kBits, int kThreads>
__device__ __forceinline__ void hyper_hash(const HyperHashArgs& a) {
  constexpr int kMaxColumns = 1024;
  __shared__ unsigned negative[kMaxColumns];  // bit i: direction i is -1 at this column
  for (int c = threadIdx.x; c < a.head_dim; c += kThreads) {
    unsigned bits = 0;
    for (int bit = 0; bit < kBits; ++bit) bits |= lsh_sign(bit, c) < 0 ? 1U << bit : 0U;
    negative[c] = bits;
  }
  __syncthreads();
  const long long row = ((long long)blockIdx.x * kThreads + threadIdx.x) / 32;
  if (row >= (long long)a.planes * a.rows) return;  // whole warps leave together
  const int lane = threadIdx.x % 32;
  const long long plane = row / a.rows, r = row % a.rows;
  const unsigned short* x = a.x + plane_start(plane, a.heads, a.stride) + r * a.stride[2];
  float dot[kBits] = {};
  for (int c = lane; c < a.head_dim; c += 32) {
    const float value = kBf16 ? bf16_bits_to_float(x[c]) : half_bits_to_float(x[c]);
    const unsigned signs = negative[c];
#pragma unroll
    for (int bit = 0; bit < kBits; ++bit) dot[bit] += (signs >> bit) & 1U ? -value : value;
  }
  unsigned bits = 0;
#pragma unroll
  for (int bit = 0; bit < kBits; ++bit) {
    float sum = dot[bit];
    for (int step = 16; step > 0; step /= 2) sum += __shfl_xor_sync(0xffffffffU, sum, step);
    bits |= sum > 0 ? 1U << bit : 0U;
  }
  if (lane == 0) a.code[row] = gray_rank(bits);
}

__device__ __forceinline__ void hyper_samples(const HyperSampleArgs& a) {
  const int pitch = a.k_rows + a.samples;
  const long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= (long long)a.planes * pitch) return;
  const int plane = (int)(i / pitch), r = (int)(i % pitch);
  if (r < a.k_rows) {
    a.sample_block[i] = -1;
    return;
  }
  const int drawn = hyper_draw(a.seed, (unsigned)plane, (unsigned)(r - a.k_rows), a.k_rows);
  a.order[i] = a.order[(long long)plane * pitch + drawn];
  a.sample_block[i] = drawn / a.block;
}

template <bool kBf16>
__device__ __forceinline__ unsigned short float_to_bits(float x) {
  unsigned short out;
  if (kBf16) {
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(out) : "f"(x));
  } else {
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(out) : "f"(x));
  }
  return out;
}

// A warp per compact row: the values first, all loads in flight, then the
// LSEs' weights. kPerLane columns a lane (head_dim_v <= 32 * kPerLane).
template <bool kBf16, int kPerLane>
__device__ __forceinline__ void hyper_merge(const HyperMergeArgs& a) {
  const long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  if (row >= (long long)a.planes * a.rows) return;
  const int lane = threadIdx.x % 32;
  const long long plane = row / a.rows;
  const long long to = a.order[row];
  if (to >= a.valid_rows) return;  // a padding query
  const long long b = plane / ((long long)a.heads * a.segments), h = plane % a.heads;
  float* lse = a.lse + (b * a.heads + h) * a.valid_rows + to;
  unsigned short* out = a.out + b * a.out_stride[0] + h * a.out_stride[1] + to * a.out_stride[2];
  const auto load = [](unsigned short v) {
    return kBf16 ? bf16_bits_to_float(v) : half_bits_to_float(v);
  };
  float mine[kPerLane], part[kPerLane], drawn[kPerLane];
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) {
    const int c = lane + 32 * j;
    const bool in = c < a.head_dim_v;
    mine[j] = in && !a.replace ? load(out[c]) : 0.0F;
    part[j] = in ? load(a.part[row * a.head_dim_v + c]) : 0.0F;
    drawn[j] = in && a.drawn != nullptr ? load(a.drawn[row * a.head_dim_v + c]) : 0.0F;
  }
  const float l_mine = a.replace ? neg_inf() : *lse;
  const float l_part = a.part_lse[row];
  const float l_drawn = a.drawn != nullptr ? a.drawn_lse[row] + a.drawn_log_weight : neg_inf();
  const float top = fmaxf(l_mine, fmaxf(l_part, l_drawn));
  const auto weight = [top](float l) { return l == neg_inf() ? 0.0F : expf(l - top); };
  const float w_mine = weight(l_mine), w_part = weight(l_part), w_drawn = weight(l_drawn);
  const float total = w_mine + w_part + w_drawn;
  // Nothing on any side: O is 0 and the LSE -inf.
  const float inverse = total > 0 ? 1.0F / total : 0.0F;
#pragma unroll
  for (int j = 0; j < kPerLane; ++j) {
    const int c = lane + 32 * j;
    if (c < a.head_dim_v) {
      out[c] = float_to_bits<kBf16>((w_mine * mine[j] + w_part * part[j] + w_drawn * drawn[j]) *
                                    inverse);
    }
  }
  if (lane == 0) *lse = total > 0 ? top + logf(total) : neg_inf();
}

#endif  // __CUDACC_RTC__

}  // namespace aj
