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

// In 32 bits, as planes are counted (an int), so that no 64-bit division
// is a call in a row kernel's loop.
__device__ __forceinline__ long long plane_start(unsigned plane, int heads,
                                                 const long long (&stride)[3]) {
  const unsigned b = plane / (unsigned)heads;
  return b * stride[0] + (plane - b * (unsigned)heads) * stride[1];
}

// Where plane `plane` (batch, segment, head) starts in its [batch, heads,
// rows] tensor.
__device__ __forceinline__ long long segment_plane_start(unsigned plane, int heads, int segments,
                                                         const long long (&stride)[3]) {
  return plane / ((unsigned)heads * (unsigned)segments) * stride[0] +
         plane % (unsigned)heads * stride[1];
}

// The rows of a CTA of either pass of the sort (chunk `chunk` of plane
// `plane`), their ids and sort keys: ids outside [0, kBuckets) share one last
// key and keep their values, so the mask's comparison of ids stays exact; a
// padding row (at or past valid_rows) sorts last too.
template <int kBuckets>
struct SortRows {
  static constexpr int kKeys = kBuckets + 1;
  const HashSortArgs& a;
  int plane, chunk;
  const int* in;
  long long first;
  int begin, end;  // the CTA's rows of its plane

  __device__ explicit SortRows(const HashSortArgs& args)
      : a(args),
        plane((int)(blockIdx.x / (unsigned)args.chunks)),
        chunk((int)(blockIdx.x % (unsigned)args.chunks)),
        in(args.bucket + segment_plane_start(plane, args.heads, args.segments, args.stride)),
        first(args.first + (long long)(plane / args.heads % args.segments) * args.step),
        begin(min(args.rows, chunk * args.chunk_rows)),
        end(min(args.rows, begin + args.chunk_rows)) {}

  __device__ int id(int r) const {
    return first + r < a.valid_rows ? in[(first + r) * a.stride[2]] : kBuckets;
  }
  __device__ static int key(int id) { return (unsigned)id < (unsigned)kBuckets ? id : kBuckets; }
  __device__ int* counts(int c) const {
    return a.counts + ((long long)plane * a.chunks + c) * kKeys;
  }
};

// The first pass of the sort: how many rows of each key every chunk of
// chunk_rows rows holds, a CTA per chunk, so that the second pass's CTAs
// know where their rows go without waiting on each other.
template <int kBuckets, int kThreads>
__device__ __forceinline__ void hash_count(const HashSortArgs& a) {
  const SortRows<kBuckets> s(a);
  __shared__ int count[SortRows<kBuckets>::kKeys];
  for (int k = threadIdx.x; k < s.kKeys; k += kThreads) count[k] = 0;
  __syncthreads();
  for (int r = s.begin + threadIdx.x; r < s.end; r += kThreads)
    atomicAdd(&count[s.key(s.id(r))], 1);
  __syncthreads();
  for (int k = threadIdx.x; k < s.kKeys; k += kThreads) s.counts(s.chunk)[k] = count[k];
}

// The second pass, a CTA per chunk again: a row goes after every row of a
// smaller key in its plane, then after the rows of its key in earlier chunks
// (hash_count's counts), then in earlier warps of its CTA, then before it in
// its warp, 32 rows a step, so equal keys keep their order (stable).
template <int kBuckets, int kThreads>
__device__ __forceinline__ void hash_sort(const HashSortArgs& a) {
  constexpr int kWarps = kThreads / 32, kKeys = SortRows<kBuckets>::kKeys;
  __shared__ int offset[kWarps][kKeys];
  __shared__ int total[kKeys];
  __shared__ int before[kKeys];
  const SortRows<kBuckets> s(a);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int i = threadIdx.x; i < kWarps * kKeys; i += kThreads) offset[i / kKeys][i % kKeys] = 0;
  for (int k = threadIdx.x; k < kKeys; k += kThreads) {
    int earlier = 0, all = 0;
    for (int c = 0; c < a.chunks; ++c) {
      const int n = s.counts(c)[k];
      earlier += c < s.chunk ? n : 0;
      all += n;
    }
    before[k] = earlier;
    total[k] = all;
  }
  __syncthreads();
  const int per_warp = (s.end - s.begin + kWarps - 1) / kWarps;
  const int begin = min(s.end, s.begin + warp * per_warp), end = min(s.end, begin + per_warp);
  for (int r = begin + lane; r < end; r += 32) atomicAdd(&offset[warp][s.key(s.id(r))], 1);
  __syncthreads();
  if (warp == 0) {  // exclusive scan of the plane's key totals
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
  for (int k = threadIdx.x; k < kKeys; k += kThreads) {
    int run = total[k] + before[k];
    for (int w = 0; w < kWarps; ++w) {
      const int count = offset[w][k];
      offset[w][k] = run;
      run += count;
    }
  }
  __syncthreads();
  int* const order = a.order + (long long)s.plane * a.order_pitch;
  int* const sorted =
      a.sorted_bucket == nullptr ? nullptr : a.sorted_bucket + (long long)s.plane * a.rows;
  for (int base = begin; base < end; base += 32) {
    const int r = base + lane;
    const bool valid = r < end;
    const int id = valid ? s.id(r) : 0;
    const int k = valid ? s.key(id) : -1;
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
      order[at] = (int)(s.first + r);
      if (sorted != nullptr) sorted[at] = id;
    }
    __syncwarp();
  }
}

// A group of `lanes` threads a row (a power of two, up to 32, as many as the
// row has words where it has fewer), a word a thread a step: a warp moves
// whole rows together, and a row's index arithmetic is done once, in 32
// bits (the runtime keeps planes * rows under 2^31).
template <class Word>
__device__ __forceinline__ void permute_words(const PermuteRowsArgs& a) {
  const unsigned pieces = (unsigned)a.row_bytes / sizeof(Word);
  const unsigned lanes = pieces >= 32 ? 32 : 1U << (32 - __clz((int)pieces - 1));
  const unsigned groups = (unsigned)a.planes * (unsigned)a.rows;
  const unsigned stride = gridDim.x * blockDim.x / lanes;
  for (unsigned row = (blockIdx.x * blockDim.x + threadIdx.x) / lanes; row < groups;
       row += stride) {
    const unsigned plane = row / (unsigned)a.rows, r = row - plane * (unsigned)a.rows;
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
    Word* dst = (Word*)(a.dst + dst_plane + to * a.dst_stride[2]);
    const Word* src = (const Word*)(a.src + src_plane + from * a.src_stride[2]);
    for (unsigned piece = threadIdx.x % lanes; piece < pieces; piece += lanes) {
      dst[piece] = padding ? Word{} : src[piece];
    }
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
    const float value = bits_to_float<kBf16>(x[c]);
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
