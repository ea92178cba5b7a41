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

// A 128-column row of 16-bit elements is a 16-byte load a lane of its
// group (kHyperRowLanes), and a warp holds two rows' loads in flight.
constexpr int kRowLanes = kHyperRowLanes;

// The shuffle mask of the calling lane's group.
__device__ __forceinline__ unsigned row_group_mask() {
  return 0xFFFFU << (threadIdx.x % 32 / kRowLanes * kRowLanes);
}

// Whether a row of `columns` 16-bit elements at `row` allows 16-byte
// accesses to every eighth column.
__device__ __forceinline__ bool row_takes_vectors(const void* row, int columns) {
  return ((unsigned long long)row % 16 | (unsigned)columns % 8) == 0;
}

// Columns c .. c + 7 of a row (c a multiple of 8), zeros past `columns`.
template <bool kBf16>
__device__ __forceinline__ void load8(const unsigned short* row, int c, int columns, bool vector,
                                      float (&out)[8]) {
  if (vector && c < columns) {
    const uint4 w = *(const uint4*)(row + c);
    const unsigned words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      out[e] = bits_to_float<kBf16>((unsigned short)(words[e / 2] >> (e % 2 * 16)));
    }
    return;
  }
#pragma unroll
  for (int e = 0; e < 8; ++e) out[e] = c + e < columns ? bits_to_float<kBf16>(row[c + e]) : 0.0F;
}

// A group of lanes a row: bit i of its code is whether its dot product with
// the direction of lsh_sign(i, .) is positive. The CTA's warps share the
// directions, kept in shared memory as sign bits per column; the grid is
// sized to the GPU and walks the rows, so each CTA makes them once.
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
  const unsigned rows = (unsigned)a.planes * (unsigned)a.rows, lane = threadIdx.x % kRowLanes;
  for (unsigned row = (blockIdx.x * kThreads + threadIdx.x) / kRowLanes; row < rows;
       row += gridDim.x * (kThreads / kRowLanes)) {
    const unsigned plane = row / (unsigned)a.rows, r = row - plane * (unsigned)a.rows;
    const unsigned short* x = a.x + plane_start(plane, a.heads, a.stride) + r * a.stride[2];
    const bool vector = row_takes_vectors(x, a.head_dim);
    float dot[kBits] = {};
    for (int c = (int)lane * 8; c < a.head_dim; c += kRowLanes * 8) {
      float value[8];
      load8<kBf16>(x, c, a.head_dim, vector, value);
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        const unsigned signs = c + e < a.head_dim ? negative[c + e] : 0U;
#pragma unroll
        for (int bit = 0; bit < kBits; ++bit) {
          dot[bit] += (signs >> bit) & 1U ? -value[e] : value[e];
        }
      }
    }
    unsigned bits = 0;
#pragma unroll
    for (int bit = 0; bit < kBits; ++bit) {
      float sum = dot[bit];
      for (int step = kRowLanes / 2; step > 0; step /= 2) {
        sum += __shfl_xor_sync(row_group_mask(), sum, step);
      }
      bits |= sum > 0 ? 1U << bit : 0U;
    }
    if (lane == 0) a.code[row] = gray_rank(bits);
  }
}

// A CTA per key plane (sample_block is -1 already: the runtime sets it
// before), kThreads draws at a time; where they are sorted, each draw's place
// is counted over the plane's draws, kept in shared memory.
template <int kThreads>
__device__ __forceinline__ void hyper_samples(const HyperSampleArgs& a) {
  __shared__ int draws[kHyperSortedDraws];
  const int plane = (int)blockIdx.x, pitch = a.k_rows + a.samples;
  const bool sorted = a.samples <= kHyperSortedDraws;
  const auto draw = [&](int m) {
    return hyper_draw(a.seed, (unsigned)plane, (unsigned)m, a.k_rows);
  };
  if (sorted) {
    for (int m = threadIdx.x; m < a.samples; m += kThreads) draws[m] = draw(m);
    __syncthreads();
  }
  int* const order = a.order + (long long)plane * pitch;
  for (int m = threadIdx.x; m < a.samples; m += kThreads) {
    const int drawn = sorted ? draws[m] : draw(m);
    // After every smaller draw, and after equal ones drawn before it.
    int place = m;
    if (sorted) {
      place = 0;
      for (int other = 0; other < a.samples; ++other) {
        const int d = draws[other];
        place += d < drawn || (d == drawn && other < m) ? 1 : 0;
      }
    }
    order[a.k_rows + place] = order[drawn];
    a.sample_block[(long long)plane * pitch + a.k_rows + place] = drawn / a.block;
  }
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

// A group of lanes a compact row, eight columns a lane a step: the values
// first, all loads in flight, then the LSEs' weights. kSteps steps of
// kRowLanes * 8 columns cover head_dim_v.
template <bool kBf16, int kSteps>
__device__ __forceinline__ void hyper_merge(const HyperMergeArgs& a) {
  const unsigned row = (blockIdx.x * blockDim.x + threadIdx.x) / kRowLanes;
  if (row >= (unsigned)a.planes * (unsigned)a.rows) return;
  const int lane = (int)(threadIdx.x % kRowLanes);
  const unsigned plane = row / (unsigned)a.rows;
  const long long to = a.order[row];
  if (to >= a.valid_rows) return;  // a padding query
  const unsigned b = plane / ((unsigned)a.heads * (unsigned)a.segments),
                 h = plane % (unsigned)a.heads;
  float* lse = a.lse + ((long long)b * a.heads + h) * a.valid_rows + to;
  unsigned short* out = a.out + b * a.out_stride[0] + h * a.out_stride[1] + to * a.out_stride[2];
  const unsigned short* part = a.part + (long long)row * a.head_dim_v;
  const bool out_vector = row_takes_vectors(out, a.head_dim_v);
  const bool compact_vector = row_takes_vectors(part, a.head_dim_v);
  const unsigned short* drawn =
      a.drawn == nullptr ? nullptr : a.drawn + (long long)row * a.head_dim_v;
  float mine[kSteps][8], from_part[kSteps][8], from_drawn[kSteps][8];
#pragma unroll
  for (int j = 0; j < kSteps; ++j) {
    const int c = (lane + j * kRowLanes) * 8;
    const int live = a.replace ? 0 : a.head_dim_v;
    load8<kBf16>(out, c, live, out_vector, mine[j]);
    load8<kBf16>(part, c, a.head_dim_v, compact_vector, from_part[j]);
    load8<kBf16>(drawn == nullptr ? part : drawn, c, drawn == nullptr ? 0 : a.head_dim_v,
                 compact_vector, from_drawn[j]);
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
  for (int j = 0; j < kSteps; ++j) {
    const int c = (lane + j * kRowLanes) * 8;
    unsigned short merged[8];
#pragma unroll
    for (int e = 0; e < 8; ++e) {
      merged[e] = float_to_bits<kBf16>(
          (w_mine * mine[j][e] + w_part * from_part[j][e] + w_drawn * from_drawn[j][e]) * inverse);
    }
    if (out_vector && c < a.head_dim_v) {
      uint4 w;
      w.x = merged[0] | (unsigned)merged[1] << 16;
      w.y = merged[2] | (unsigned)merged[3] << 16;
      w.z = merged[4] | (unsigned)merged[5] << 16;
      w.w = merged[6] | (unsigned)merged[7] << 16;
      *(uint4*)(out + c) = w;
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) {
        if (c + e < a.head_dim_v) out[c + e] = merged[e];
      }
    }
  }
  if (lane == 0) *lse = total > 0 ? top + logf(total) : neg_inf();
}

#endif  // __CUDACC_RTC__

}  // namespace aj
