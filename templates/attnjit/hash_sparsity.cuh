// The kernels of `sparsity hash` that run around the forward kernel: an LSH
// of the rows into buckets, a stable sort of each (batch, head) plane's rows
// by bucket, and row copies that gather Q, K and V into the sorted order and
// scatter O and the LSE back. The fixed LSH directions are host code too, so
// that a test can hash on the CPU alike.
#pragma once

#include "attnjit/fwd_args.h"
#include "attnjit/prelude.cuh"

namespace aj {

// Component c of bucket `bucket`'s direction, +1 or -1: a murmur-style mix
// of the two, fixed so that queries and keys (and every call) share it.
AJ_HD float lsh_sign(int bucket, int c) {
  unsigned h = (unsigned)bucket * 0x9E3779B1U ^ ((unsigned)c + 0x7F4A7C15U) * 0x85EBCA77U;
  h ^= h >> 15;
  h *= 0x2C1B3C6DU;
  h ^= h >> 12;
  h *= 0x297A2D39U;
  h ^= h >> 15;
  return (h & 1U) != 0 ? -1.0F : 1.0F;
}

#ifdef __CUDACC_RTC__

__device__ __forceinline__ long long plane_start(long long plane, int heads,
                                                 const long long (&stride)[3]) {
  return plane / heads * stride[0] + plane % heads * stride[1];
}

// Where plane `plane` (batch, segment, head) starts in its [batch, heads,
// rows] tensor.
__device__ __forceinline__ long long segment_plane_start(long long plane, int heads, int segments,
                                                         const long long (&stride)[3]) {
  return plane / ((long long)heads * segments) * stride[0] + plane % heads * stride[1];
}

// A CTA per plane. Each warp takes a contiguous run of rows; a count per
// (warp, bucket) turns into where the warp's rows of each bucket go, and the
// warp then places its rows in order, 32 at a time, so equal buckets keep
// their order (stable). Ids outside [0, kBuckets) share one last bucket and
// keep their values, so the mask's comparison of ids stays exact.
template <int kBuckets, int kThreads>
__device__ __forceinline__ void hash_sort(const HashSortArgs& a) {
  constexpr int kWarps = kThreads / 32, kKeys = kBuckets + 1;
  __shared__ int offset[kWarps][kKeys];
  __shared__ int total[kKeys];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const long long plane = blockIdx.x;
  const int* in = a.bucket + segment_plane_start(plane, a.heads, a.segments, a.stride);
  const long long first = a.first + plane / a.heads % a.segments * a.step;
  const auto key = [](int id) { return (unsigned)id < (unsigned)kBuckets ? id : kBuckets; };
  // A padding row's id: past every bucket, so it sorts last.
  const auto id_of = [&](int r) {
    return first + r < a.valid_rows ? in[(first + r) * a.stride[2]] : kBuckets;
  };
  for (int i = threadIdx.x; i < kWarps * kKeys; i += kThreads) offset[i / kKeys][i % kKeys] = 0;
  __syncthreads();
  const int per_warp = (a.rows + kWarps - 1) / kWarps;
  const int begin = min(a.rows, warp * per_warp), end = min(a.rows, begin + per_warp);
  for (int r = begin + lane; r < end; r += 32) atomicAdd(&offset[warp][key(id_of(r))], 1);
  __syncthreads();
  for (int k = threadIdx.x; k < kKeys; k += kThreads) {
    int run = 0;
    for (int w = 0; w < kWarps; ++w) {
      const int count = offset[w][k];
      offset[w][k] = run;
      run += count;
    }
    total[k] = run;
  }
  __syncthreads();
  if (warp == 0) {  // exclusive scan of the buckets' totals
    constexpr int kPerLane = (kKeys + 31) / 32;
    int sum = 0;
    for (int j = 0; j < kPerLane; ++j) {
      const int k = lane * kPerLane + j;
      if (k < kKeys) sum += total[k];
    }
    int inclusive = sum;
    for (int step = 1; step < 32; step *= 2) {
      const int v = __shfl_up_sync(0xffffffffU, inclusive, step);
      if (lane >= step) inclusive += v;
    }
    int run = inclusive - sum;
    for (int j = 0; j < kPerLane; ++j) {
      const int k = lane * kPerLane + j;
      if (k < kKeys) {
        const int count = total[k];
        total[k] = run;
        run += count;
      }
    }
  }
  __syncthreads();
  for (int i = threadIdx.x; i < kWarps * kKeys; i += kThreads) {
    offset[i / kKeys][i % kKeys] += total[i % kKeys];
  }
  __syncthreads();
  int* const order = a.order + plane * a.order_pitch;
  int* const sorted = a.sorted_bucket == nullptr ? nullptr : a.sorted_bucket + plane * a.rows;
  for (int base = begin; base < end; base += 32) {
    const int r = base + lane;
    const bool valid = r < end;
    const int id = valid ? id_of(r) : 0;
    const int k = valid ? key(id) : -1;
    const unsigned peers = __match_any_sync(0xffffffffU, k);
    const int leader = __ffs(peers) - 1;
    int start = 0;
    if (valid && lane == leader) {
      start = offset[warp][k];
      offset[warp][k] = start + __popc(peers);
    }
    start = __shfl_sync(0xffffffffU, start, leader);
    if (valid) {
      const int at = start + __popc(peers & ((1U << lane) - 1U));
      order[at] = (int)(first + r);
      if (sorted != nullptr) sorted[at] = id;
    }
    __syncwarp();
  }
}

template <class Word>
__device__ __forceinline__ void permute_words(const PermuteRowsArgs& a) {
  const long long pieces = a.row_bytes / (int)sizeof(Word);
  const long long total = (long long)a.planes * a.rows * pieces;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total;
       i += (long long)gridDim.x * blockDim.x) {
    const long long row = i / pieces, piece = i % pieces;
    const long long plane = row / a.rows, r = row % a.rows;
    const long long o = a.order[row];
    const bool padding = o >= a.valid_rows;
    if (padding && !a.gather) continue;
    const long long from = a.gather ? o : r, to = a.gather ? r : o;
    const long long src_plane = a.gather
                                    ? segment_plane_start(plane, a.heads, a.segments, a.src_stride)
                                    : plane_start(plane, a.heads, a.src_stride);
    const long long dst_plane = a.gather
                                    ? plane_start(plane, a.heads, a.dst_stride)
                                    : segment_plane_start(plane, a.heads, a.segments, a.dst_stride);
    Word* dst = (Word*)(a.dst + dst_plane + to * a.dst_stride[2]) + piece;
    *dst = padding ? Word{} : *((const Word*)(a.src + src_plane + from * a.src_stride[2]) + piece);
  }
}

// The widest word that every row start and length allow.
__device__ __forceinline__ void permute_rows(const PermuteRowsArgs& a) {
  const long long align = a.row_bytes | (long long)a.src | (long long)a.dst | a.src_stride[0] |
                          a.src_stride[1] | a.src_stride[2] | a.dst_stride[0] | a.dst_stride[1] |
                          a.dst_stride[2];
  if (align % 16 == 0) {
    permute_words<uint4>(a);
  } else if (align % 4 == 0) {
    permute_words<unsigned>(a);
  } else {
    permute_words<unsigned short>(a);
  }
}

// The dot product of a row of 16-bit elements with direction `direction`
// (lsh_sign), the warp's lanes sharing the columns; every lane gets the same
// bits, so that they all decide alike.
template <bool kBf16>
__device__ __forceinline__ float warp_sign_dot(const unsigned short* x, int head_dim,
                                               int direction) {
  const int lane = threadIdx.x % 32;
  float dot = 0;
  for (int c = lane; c < head_dim; c += 32) {
    const float value = kBf16 ? bf16_bits_to_float(x[c]) : half_bits_to_float(x[c]);
    dot += lsh_sign(direction, c) * value;
  }
  for (int step = 16; step > 0; step /= 2) dot += __shfl_xor_sync(0xffffffffU, dot, step);
  return __shfl_sync(0xffffffffU, dot, 0);
}

// A warp per row: the dot product with each bucket's direction and the first
// bucket of the greatest.
template <bool kBf16, int kBuckets>
__device__ __forceinline__ void lsh_buckets(const LshArgs& a) {
  const long long row = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  if (row >= (long long)a.planes * a.rows) return;  // whole warps leave together
  const int lane = threadIdx.x % 32;
  const long long plane = row / a.rows, r = row % a.rows;
  const unsigned short* x = a.x + plane_start(plane, a.heads, a.stride) + r * a.stride[2];
  float best = 0;
  int arg = 0;
  for (int bucket = 0; bucket < kBuckets; ++bucket) {
    const float dot = warp_sign_dot<kBf16>(x, a.head_dim, bucket);
    if (bucket == 0 || dot > best) {
      best = dot;
      arg = bucket;
    }
  }
  if (lane == 0) a.bucket[row] = arg;
}

#endif  // __CUDACC_RTC__

}  // namespace aj
