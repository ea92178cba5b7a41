// The decode family: few query rows against a long KV cache, which makes the
// work a stream of K and V at copy speed. Three kernels:
//
// - plan (ragged batches only): key tiles before each batch entry, a scan.
// - decode: the rows of one (batch, KV head) are the queries of every head
//   sharing that KV head, packed (GQA), in blocks of kRows. A segment is one
//   (batch, KV head, row block) with its key tiles; the segments' tiles are
//   laid end to end and cut into `ctas` equal ranges (stream-K, as
//   LeanAttention), one per CTA, so that any batch and length fills the GPU.
//   A CTA's range may hold the ends of several segments: each piece is a pass
//   of its own. K and V tiles of kBlockN keys stream through kStages of
//   shared memory (cp.async, or TMA as below); each warp takes its own
//   kBlockN / kWarps keys of a tile with mma.sync and an online softmax, and
//   the warps' results are joined in shared memory at the end of a piece. A
//   piece that is a whole segment writes O and LSE; else it leaves a
//   normalised partial O and its log2-sum in slot (segment + CTA), which is
//   unique (two pieces with equal sums would need CTA c - 1 to reach past
//   segment s + 1 while CTA c starts inside segment s).
// - merge: joins a split segment's partials by their sums, a CTA per row.
//
// Paged K and V (C::kPageSize > 0) are [pages, kv_heads, page, head_dim]:
// key k of batch entry b is row k % page of page_table[b][k / page].
//
// With C::kTma (sm_90, a contiguous cache) thread 0 has TMA copy each K and V
// tile, boxes of 64 columns, in the 128-byte swizzle of fwd_sm90.cuh, and the
// stage completes on an mbarrier; rows past a tensor's end arrive as zeros.
// A stream microbenchmark on the H100 read such tiles at 2.89 TB/s, against
// 2.80 for 16-byte cp.async copies, whatever the stages and grid
// (bench/results/h100-2026-11-24-s31-decode-tma.txt).
//
// The variant plugs in as in the other families (fwd_sm80.cuh); the config C
// has kRows, kBlockN, kWarps, kStages, kPageSize, kTma, kHeadDim, kHeadDimV,
// kBf16, kOutBf16, kPositiveScale and kSmemBytes.
#pragma once

// Divisions inline: a call's register saves spill here, and decode has the
// issue slots to spare.
#define AJ_INLINE_DIVISION
#include "attnjit/fwd_sm80.cuh"
#include "attnjit/tma.cuh"

namespace aj {
namespace decode {

using sm80::cp_async_16;
using sm80::cp_async_commit;
using sm80::ldmatrix_x4;
using sm80::ldmatrix_x4_trans;
using sm80::mma_16816;

// 16 bytes global -> shared, the whole 128-byte line brought into L2 at once:
// the neighbouring lanes read the rest of it. With the hint (and rows past the
// keys zeroed by stores instead of the zero-filling cp_async_16), the decode
// kernel's DRAM throughput rose from 84% to 86% of peak (ncu, H100, b8 L32768).
__device__ __forceinline__ void cp_async_16_line(void* dst, const void* src) {
  asm volatile("cp.async.cg.shared.global.L2::128B [%0], [%1], 16;\n" ::"r"(smem_addr(dst)),
               "l"(src));
}

template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

template <class C>
struct Shape {
  static constexpr int kRows = C::kRows, kBN = C::kBlockN, kWarps = C::kWarps;
  static constexpr int kStages = C::kStages;
  static constexpr int kD = C::kHeadDim, kDV = C::kHeadDimV;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kWarpKeys = kBN / kWarps;  // each warp's keys of a tile
  static constexpr int kMTiles = kRows / 16;
  static constexpr int kNTiles = kWarpKeys / 8;
  static constexpr int kDTiles = kDV / 8;
  static constexpr int kQStride = kD + 8;  // rows padded by 16 bytes (fwd_sm80.cuh)
  // TMA's tiles are swizzled instead: D / 64 blocks of kBN rows of 128 bytes.
  static constexpr int kPad = C::kTma ? 0 : 8;
  static constexpr int kKStride = kD + kPad;
  static constexpr int kVStride = kDV + kPad;
  static constexpr int kStageElems = kBN * (kKStride + kVStride);
  // The warps' rows of O, their maxima and sums, joined at the end of a piece
  // in the stage buffers, which are idle then.
  static constexpr int kJoinBytes = kWarps * kRows * (kDV + 2) * 4;
  static constexpr int kStageBytes = 2 * kStages * kStageElems;
  static constexpr int kStageRegion = kStageBytes > kJoinBytes ? kStageBytes : kJoinBytes;
  // Q, then the stages; under TMA the stages first, at the next multiple of
  // 1024 bytes (the swizzle's period), then Q.
  static constexpr int kSmemBytes = (C::kTma ? 1024 : 0) + 2 * kRows * kQStride + kStageRegion;
  static_assert(C::kSmemBytes == kSmemBytes, "shared memory as the generator sized it");
  static_assert(!C::kTma || (kD % 64 == 0 && kDV % 64 == 0 && C::kPageSize == 0),
                "TMA boxes of 64 columns from a contiguous cache");
  static_assert(kRows % 16 == 0 && kWarpKeys % 16 == 0, "whole m16 tiles and k16 steps");
  static_assert(kD % 16 == 0 && kDV % 16 == 0, "k16 steps and n16 pairs");
  static_assert(kStages >= 2, "a stage to fill while one is read");
};

// Key tiles before batch entry b: from the plan for a ragged batch, else
// b whole-length entries.
__device__ __forceinline__ long long tiles_before(const FwdArgs& a, const DecodeArgs& d, int b,
                                                  int bn) {
  if (d.tile_prefix != nullptr) return d.tile_prefix[b];
  return (long long)b * ((a.kv_len + bn - 1) / bn);
}

// Lengths past the capacity kv_len would read outside K and V: clamped.
__device__ __forceinline__ int clamp_keys(int keys, int capacity) {
  return keys < 0 ? 0 : keys > capacity ? capacity : keys;
}

__device__ __forceinline__ int keys_of(const FwdArgs& a, const DecodeArgs& d, int b) {
  return d.kv_lens != nullptr ? clamp_keys(d.kv_lens[b], a.kv_len) : a.kv_len;
}

// Where a tile index of the whole problem lies.
struct Segment {
  int b, hkv, rb;
  long long first;  // its first tile in the whole problem
  int tiles;        // its key tiles
};

// The segment that holds tile t (< the problem's tiles): the last batch entry
// whose first tile is at or before t has tiles, so the search never lands on
// an empty one.
template <int BN>
__device__ Segment segment_of(const FwdArgs& a, const DecodeArgs& d, long long t) {
  const long long units = (long long)a.kv_heads * d.row_blocks;
  int lo = 0, hi = a.batch - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (tiles_before(a, d, mid, BN) * units <= t) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  Segment s;
  s.b = lo;
  s.tiles = (keys_of(a, d, lo) + BN - 1) / BN;
  const long long local = t - tiles_before(a, d, lo, BN) * units;
  const long long unit = local / s.tiles;
  s.hkv = (int)(unit / d.row_blocks);
  s.rb = (int)(unit % d.row_blocks);
  s.first = t - local % s.tiles;
  return s;
}

__device__ __forceinline__ long long segment_index(const FwdArgs& a, const DecodeArgs& d,
                                                   const Segment& s) {
  return ((long long)s.b * a.kv_heads + s.hkv) * d.row_blocks + s.rb;
}

// The CTA whose range holds tile t: range c is [c T / G, (c + 1) T / G).
__device__ __forceinline__ long long cta_of(long long t, long long total, int ctas) {
  return ((t + 1) * ctas - 1) / total;
}

__device__ __forceinline__ long long total_tiles(const FwdArgs& a, const DecodeArgs& d, int bn) {
  return tiles_before(a, d, a.batch, bn) * a.kv_heads * d.row_blocks;
}

// The lane's two rows of a block: packed row r is query r / group of head
// hkv * group + r % group. Selects, not arrays: the compact mask loop picks a
// row by a run-time index, and an array would live in local memory.
struct PackedRows {
  long long q0, q1;
  long long h0, h1;
  __device__ __forceinline__ void set(Index& ix, int r) const {
    ix.q = r == 0 ? q0 : q1;
    ix.h = r == 0 ? h0 : h1;
  }
};

// The rows' q range and head range bound every row of the block, so a class
// found for that rectangle holds for each row.
template <class V, int BN>
struct DecodeWalk {
  __device__ TileClass classify(int n) const {
    if constexpr (!V::kHasMask) {
      return kFull;
    } else if constexpr (V::kClassTable) {
      return kPartial;  // a mask of tensors is evaluated per element here
    } else {
      Tile tile;
      tile.at = ix;
      tile.q0 = q0;
      tile.q1 = q1;
      tile.k0 = (long long)n * BN;
      tile.k1 = ((long long)n * BN + BN < ix.kv_len ? (long long)n * BN + BN : ix.kv_len) - 1;
      TileClass joined = kEmpty;
      for (long long h = h0; h <= h1; ++h) {
        tile.at.h = h;
        const TileClass c = V::classify(p, tile);
        if (h == h0) {
          joined = c;
        } else if (c != joined) {
          joined = kPartial;
        }
      }
      return joined;
    }
  }

  // The first tile in [n, end) that is not empty, else end; its class in
  // `found`. Called by the whole warp with ascending n. The lanes classify a
  // window of 32 tiles at once and keep it: the steps that follow find their
  // tile in it without classifying again, which cost as many instructions as
  // computing a tile when each step classified its own window.
  __device__ __forceinline__ int next(int n, TileClass& found) {
    while (n < end) {
      if (n >= window + 32) {
        window = n;
        const int mine = n + (int)(threadIdx.x % 32);
        lane_class = mine < end ? classify(mine) : kEmpty;
        live = __ballot_sync(0xffffffffu, lane_class != kEmpty);
      }
      const unsigned ahead = live & (0xffffffffu << (n - window));
      const int first = __ffs(ahead) - 1;  // a warp-uniform value, so the shuffle is whole
      const TileClass c = (TileClass)__shfl_sync(0xffffffffu, (int)lane_class, first & 31);
      if (ahead != 0) {
        found = c;
        return window + first;
      }
      n = window + 32;
    }
    return end;
  }

  const typename V::Params& p;
  const Index& ix;
  long long q0, q1, h0, h1;
  int end;
  int window = -32;  // the classified window [window, window + 32)
  unsigned live = 0;
  TileClass lane_class = kEmpty;
};

// Keys [key0, key0 + Rows) of one KV head into shared memory, zero past `keys`
// and on pages outside the cache (stored directly: the stage's last copies
// into it have landed, as the refill comment in forward says).
template <class C, int Rows, int Cols, int Threads>
__device__ __forceinline__ void load_keys(u16* dst, int dst_stride, const u16* head,
                                          const long long (&stride)[3], const DecodeArgs& d, int b,
                                          int key0, int keys) {
  constexpr int kChunksPerRow = Cols / 8;
  const auto zero = [](u16* at) { *reinterpret_cast<uint4*>(at) = make_uint4(0, 0, 0, 0); };
  // One 16-byte chunk of key `key` (a row of the tile) at column `col`.
  const auto copy = [&](u16* to, int key, int col) {
    if constexpr (C::kPageSize > 0) {
      const long long page =
          key < keys ? d.page_table[(long long)b * d.page_stride + key / C::kPageSize] : -1;
      if (page >= 0 && page < d.pages) {
        cp_async_16_line(
            to, head + page * stride[0] + (long long)(key % C::kPageSize) * stride[2] + col);
      } else {
        zero(to);
      }
    } else if (key < keys) {
      cp_async_16_line(to, head + (long long)b * stride[0] + (long long)key * stride[2] + col);
    } else {
      zero(to);
    }
  };
  if constexpr (Threads % kChunksPerRow == 0 && Rows % (Threads / kChunksPerRow) == 0) {
    // Each thread keeps one column and steps over rows a constant count of
    // times; a whole tile of a contiguous cache adds a stride a row rather
    // than rebuilding each address from its key (a 64-bit multiply and a
    // bounds branch a row, most of what this loop issued).
    constexpr int kRowsPerPass = Threads / kChunksPerRow, kPasses = Rows / kRowsPerPass;
    const int r0 = (int)threadIdx.x / kChunksPerRow, col = (int)(threadIdx.x % kChunksPerRow) * 8;
    u16* to = dst + r0 * dst_stride + col;
    if (C::kPageSize == 0 && key0 + Rows <= keys) {
      const u16* from = head + (long long)b * stride[0] + (long long)(key0 + r0) * stride[2] + col;
      const long long step = kRowsPerPass * stride[2];
#pragma unroll
      for (int i = 0; i < kPasses; ++i) {
        cp_async_16_line(to + i * kRowsPerPass * dst_stride, from + i * step);
      }
    } else {
#pragma unroll
      for (int i = 0; i < kPasses; ++i) {
        copy(to + i * kRowsPerPass * dst_stride, key0 + r0 + i * kRowsPerPass, col);
      }
    }
  } else {
#pragma unroll 1
    for (int c = threadIdx.x; c < Rows * kChunksPerRow; c += Threads) {
      const int r = c / kChunksPerRow, col = (c % kChunksPerRow) * 8;
      copy(dst + r * dst_stride + col, key0 + r, col);
    }
  }
}

// Byte offset of 16-byte chunk `chunk` of row `row` in a TMA tile of Rows rows:
// 64-column blocks of Rows rows of 128 bytes, chunk c of row r at c ^ (r % 8).
template <int Rows>
__device__ __forceinline__ u32 swizzled(int row, int chunk) {
  return (u32)((chunk / 8) * Rows * 128 + row * 128 + ((chunk % 8) ^ (row % 8)) * 16);
}

// Rows [from, Rows) of a TMA tile of Cols columns set to zero: keys past a
// batch entry's length that TMA read from the cache's capacity, where P is 0
// but V may hold anything (0 * inf is NaN). Ordered before the TMA copy that
// refills the stage later.
template <int Rows, int Cols, int Threads>
__device__ __forceinline__ void zero_tail(u16* tile, int from) {
  const int count = (Rows - from) * (Cols / 8);
  for (int c = threadIdx.x; c < count; c += Threads) {
    const int row = from + c / (Cols / 8), chunk = c % (Cols / 8);
    *reinterpret_cast<uint4*>(reinterpret_cast<unsigned char*>(tile) + swizzled<Rows>(row, chunk)) =
        make_uint4(0, 0, 0, 0);
  }
  fence_async_shared();
}

template <class V, class C>
__device__ __forceinline__ void forward(const FwdArgs& a, const DecodeArgs& d, const FwdMaps* maps,
                                        const typename V::Params& p) {
  using S = Shape<C>;
  constexpr bool kBf16 = C::kBf16;
  constexpr int BN = S::kBN, MT = S::kMTiles, NT = S::kNTiles, DT = S::kDTiles;
  constexpr int KW = S::kWarpKeys, RM = S::kRows;

  // Under the plan of a ragged batch the runtime starts this kernel early; the
  // merge after it may start early in turn (grid_dependency.cuh).
  wait_for_prior_grids();
  allow_dependent_grids();
  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ int ring[S::kStages][2];               // tile and class of each stage, in issue order
  __shared__ u64 landed[C::kTma ? S::kStages : 1];  // TMA: a stage's copies are in
  unsigned char* base = smem;
  if constexpr (C::kTma) base += (1024 - (smem_addr(smem) & 1023)) & 1023;
  u16* stages = reinterpret_cast<u16*>(C::kTma ? base : base + 2 * RM * S::kQStride);
  u16* sQ = reinterpret_cast<u16*>(C::kTma ? base + S::kStageRegion : base);
  float* join = reinterpret_cast<float*>(stages);
  if constexpr (C::kTma) {
    if (threadIdx.x == 0) {
      tma_prefetch_map(maps->k);
      tma_prefetch_map(maps->v);
      for (int s = 0; s < S::kStages; ++s) mbar_init(&landed[s], 1);
      mbar_init_fence();
    }
    __syncthreads();
  }
  u32 phases = 0;  // TMA: the parity each stage's barrier completes next, a bit a stage

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t = lane % 4;
  const float kFactor = V::kIdentityScore && C::kPositiveScale ? a.scale_log2 : 1.0f;
  const int group = a.heads / a.kv_heads;
  const long long rows_total = (long long)group * a.q_len;

  const long long total = total_tiles(a, d, BN);
  const long long begin = total * blockIdx.x / d.ctas, finish = total * (blockIdx.x + 1) / d.ctas;

  const u32 q_frag = smem_addr(sQ + (lane % 16) * S::kQStride + (lane / 16) * 8);
  // A lane's ldmatrix row of K (B of QK^T) and of V (B of PV, transposed).
  const int k_row = warp * KW + lane % 8 + (lane / 16) * 8, k_chunk = (lane / 8) % 2;
  const int v_row = warp * KW + lane % 8 + ((lane / 8) % 2) * 8, v_chunk = lane / 16;
  // Padded rows: the lane's address plus a step's. Swizzled (TMA): the step's
  // rows are whole groups of 8, so a lane's row % 8 is lane % 8, and the
  // chunk is the step's (even) chunk, XORed with the lane's.
  const u32 k_frag = C::kTma ? smem_addr(stages) + k_row * 128
                             : smem_addr(stages + k_row * S::kKStride + k_chunk * 8);
  const u32 v_frag = C::kTma
                         ? smem_addr(stages + BN * S::kD) + v_row * 128
                         : smem_addr(stages + BN * S::kKStride + v_row * S::kVStride + v_chunk * 8);
  const u32 k_xor = (u32)(k_chunk ^ (lane % 8)), v_xor = (u32)(v_chunk ^ (lane % 8));
  // The offset of K's 16 x 16 block at rows np * 16 (of the warp's), column
  // ks * 16, and of V's at rows kk * 16, columns dp * 16.
  const auto k_step = [&](int np, int ks) -> u32 {
    if constexpr (C::kTma) {
      return (u32)((ks / 4) * BN * 128 + np * 16 * 128) + ((((u32)ks * 2) % 8 ^ k_xor) * 16);
    } else {
      return 2 * (u32)(np * 16 * S::kKStride + ks * 16);
    }
  };
  const auto v_step = [&](int kk, int dp) -> u32 {
    if constexpr (C::kTma) {
      return (u32)((dp / 4) * BN * 128 + kk * 16 * 128) + ((((u32)dp * 2) % 8 ^ v_xor) * 16);
    } else {
      return 2 * (u32)(kk * 16 * S::kVStride + dp * 16);
    }
  };
  constexpr u32 kStageBytes = 2 * S::kStageElems;

  for (long long at = begin; at < finish;) {
    const Segment seg = segment_of<BN>(a, d, at);
    const int first = (int)(at - seg.first);
    const int end = (int)(finish - seg.first < seg.tiles ? finish - seg.first : seg.tiles);
    at = seg.first + end;
    const int keys = keys_of(a, d, seg.b);

    Index ix = fwd_index(a, seg.b, seg.hkv * group, seg.hkv);
    ix.kv_len = keys;
    const long long row0 = (long long)seg.rb * RM;
    const long long row_last = (row0 + RM < rows_total ? row0 + RM : rows_total) - 1;
    DecodeWalk<V, BN> walk{p, ix, row0 / group, row_last / group, 0, 0, end};
    if (row0 / group == row_last / group) {
      walk.h0 = seg.hkv * group + row0 % group;
      walk.h1 = seg.hkv * group + row_last % group;
    } else {
      walk.h0 = seg.hkv * group;
      walk.h1 = walk.h0 + group - 1;
    }

    // Q rows of the block; past the last row, zeros.
    constexpr int kQChunks = S::kD / 8;
    for (int c = threadIdx.x; c < RM * kQChunks; c += S::kThreads) {
      const int r = c / kQChunks, col = (c % kQChunks) * 8;
      const long long row = row0 + r;
      const bool valid = row < rows_total;
      const long long h = seg.hkv * group + (valid ? row % group : 0), q = valid ? row / group : 0;
      const u16* src = static_cast<const u16*>(a.q) + seg.b * a.q_stride[0] + h * a.q_stride[1] +
                       q * a.q_stride[2] + col;
      cp_async_16(sQ + r * S::kQStride + col, src, valid);
    }
    const u16* k_head = static_cast<const u16*>(a.k) + seg.hkv * a.k_stride[1];
    const u16* v_head = static_cast<const u16*>(a.v) + seg.hkv * a.v_stride[1];
    auto load_stage = [&](int n, int stage) {
      u16* sK = stages + stage * S::kStageElems;
      if constexpr (C::kTma) {
        if (threadIdx.x == 0) {
          u64* bar = &landed[stage];
          mbar_expect_tx(bar, (u32)(2 * BN * (S::kD + S::kDV)));
#pragma unroll
          for (int j = 0; j < S::kD / 64; ++j) {
            tma_load(sK + j * BN * 64, maps->k, bar, j * 64, n * BN, seg.hkv, seg.b);
          }
#pragma unroll
          for (int j = 0; j < S::kDV / 64; ++j) {
            tma_load(sK + BN * S::kD + j * BN * 64, maps->v, bar, j * 64, n * BN, seg.hkv, seg.b);
          }
        }
      } else {
        load_keys<C, BN, S::kD, S::kThreads>(sK, S::kKStride, k_head, a.k_stride, d, seg.b, n * BN,
                                             keys);
        load_keys<C, BN, S::kDV, S::kThreads>(sK + BN * S::kKStride, S::kVStride, v_head,
                                              a.v_stride, d, seg.b, n * BN, keys);
      }
    };
    PackedRows rows[MT];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      const long long row = row0 + mt * 16 + g;
      rows[mt].q0 = row / group;
      rows[mt].h0 = seg.hkv * group + row % group;
      rows[mt].q1 = (row + 8) / group;
      rows[mt].h1 = seg.hkv * group + (row + 8) % group;
    }
    float row_max[MT][2], row_sum[MT][2];
    float acc_o[MT][DT][4];
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        row_max[mt][r] = neg_inf();
        row_sum[mt][r] = 0.0f;
      }
#pragma unroll
      for (int dt = 0; dt < DT; ++dt) {
#pragma unroll
        for (int i = 0; i < 4; ++i) acc_o[mt][dt][i] = 0.0f;
      }
    }

    // One loop both fills the stages and computes, with one copy of the tile
    // walk and of the loads: each step issues the next tile that is not
    // empty, if any (a cp.async group per step, empty or not, keeps the wait
    // counts exact), and from step kStages - 1 on computes the oldest one.
    // Tile m is issued at step m, so tile `done` has landed once at most
    // kStages - 2 groups are pending; the stage refilled (and its ring entry)
    // was last read by the tile computed in the step before, which the
    // barrier has seen finish.
    int cursor = first, issued = 0, done = 0;
    for (int step = 0;; ++step) {
      const bool filling = step < S::kStages - 1;
      int n = 0;
      TileClass tile_class = kFull;
      if (!filling) {
        if (done == issued) break;
        cp_async_wait<S::kStages - 2>();
        __syncthreads();
        n = ring[done % S::kStages][0];
        tile_class = (TileClass)ring[done % S::kStages][1];
      }
      TileClass next_class = kFull;
      const int next = walk.next(cursor, next_class);
      if (next < end) {
        if (threadIdx.x == 0) {
          ring[issued % S::kStages][0] = next;
          ring[issued % S::kStages][1] = (int)next_class;
        }
        load_stage(next, issued % S::kStages);
        ++issued;
      }
      cursor = next + 1;
      cp_async_commit();
      if (filling) continue;
      const int stage = done % S::kStages;
      ++done;
      if constexpr (C::kTma) {
        mbar_wait(&landed[stage], (phases >> stage) & 1u);
        phases ^= 1u << stage;
        if ((n + 1) * BN > keys) {
          zero_tail<BN, S::kDV, S::kThreads>(stages + stage * S::kStageElems + BN * S::kD,
                                             keys - n * BN);
          __syncthreads();
        }
      }

      const u32 stage_offset = stage * kStageBytes;
      float acc_s[MT][NT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
        for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
          for (int i = 0; i < 4; ++i) acc_s[mt][nt][i] = 0.0f;
        }
      }
#pragma unroll
      for (int ks = 0; ks < S::kD / 16; ++ks) {
        u32 qa[MT][4];
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          ldmatrix_x4(qa[mt], q_frag + 2 * (mt * 16 * S::kQStride + ks * 16));
        }
#pragma unroll
        for (int np = 0; np < NT / 2; ++np) {
          u32 kb[4];
          ldmatrix_x4(kb, k_frag + stage_offset + k_step(np, ks));
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma_16816<kBf16>(acc_s[mt][2 * np], qa[mt], kb[0], kb[1]);
            mma_16816<kBf16>(acc_s[mt][2 * np + 1], qa[mt], kb[2], kb[3]);
          }
        }
      }

      const long long k0 = (long long)n * BN + warp * KW;
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        apply_score<V, C::kPositiveScale, true>(acc_s[mt], p, ix, a.scale, a.scale_log2, rows[mt],
                                                k0, t);
      }
      if (tile_class == kPartial || (n + 1) * BN > keys) {
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) apply_mask<V>(acc_s[mt], p, ix, rows[mt], k0, t);
      }
      u32 pa[KW / 16][MT][4];
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) {
        float rescale[2];
        online_softmax(acc_s[mt], row_max[mt], row_sum[mt], kFactor, rescale);
        rescale_moved_rows(acc_o[mt], rescale);
#pragma unroll
        for (int kk = 0; kk < KW / 16; ++kk) pack_a<kBf16>(pa[kk][mt], acc_s[mt], kk);
      }
#pragma unroll
      for (int kk = 0; kk < KW / 16; ++kk) {
#pragma unroll
        for (int dp = 0; dp < DT / 2; ++dp) {
          u32 vb[4];
          ldmatrix_x4_trans(vb, v_frag + stage_offset + v_step(kk, dp));
#pragma unroll
          for (int mt = 0; mt < MT; ++mt) {
            mma_16816<kBf16>(acc_o[mt][2 * dp], pa[kk][mt], vb[0], vb[1]);
            mma_16816<kBf16>(acc_o[mt][2 * dp + 1], pa[kk][mt], vb[2], vb[3]);
          }
        }
      }
    }

    // Join the warps: each leaves its rows' max (log2 domain), sum and O.
    cp_async_wait<0>();
    __syncthreads();
    float* join_o = join + warp * RM * S::kDV;
    float* join_max = join + S::kWarps * RM * S::kDV + warp * RM;
    float* join_sum = join_max + S::kWarps * RM;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const int row = mt * 16 + g + r * 8;
        const float sum = quad_sum(row_sum[mt][r]);
        if (t == 0) {
          join_max[row] = row_max[mt][r];
          join_sum[row] = sum;
        }
#pragma unroll
        for (int dt = 0; dt < DT; ++dt) {
          *reinterpret_cast<float2*>(join_o + row * S::kDV + dt * 8 + 2 * t) =
              make_float2(acc_o[mt][dt][2 * r], acc_o[mt][dt][2 * r + 1]);
        }
      }
    }
    __syncthreads();
    const bool whole = first == 0 && end == seg.tiles;
    const long long slot = segment_index(a, d, seg) + blockIdx.x;
    const float* maxima = join + S::kWarps * RM * S::kDV;
    const float* sums = maxima + S::kWarps * RM;
    for (int c = threadIdx.x; c < RM * (S::kDV / 2); c += S::kThreads) {
      const int r = c / (S::kDV / 2), col = (c % (S::kDV / 2)) * 2;
      const long long row = row0 + r;
      if (row >= rows_total) continue;
      float m = neg_inf();
#pragma unroll
      for (int w = 0; w < S::kWarps; ++w) m = fmaxf(m, maxima[w * RM + r]);
      const float base = m == neg_inf() ? 0.0f : m;
      float sum = 0.0f, lo = 0.0f, hi = 0.0f;
#pragma unroll
      for (int w = 0; w < S::kWarps; ++w) {
        const float weight =
            maxima[w * RM + r] == neg_inf() ? 0.0f : exp2_approx(maxima[w * RM + r] - base);
        sum += sums[w * RM + r] * weight;
        const float2 o = *reinterpret_cast<const float2*>(join + (w * RM + r) * S::kDV + col);
        lo += o.x * weight;
        hi += o.y * weight;
      }
      const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
      const float lse2 = sum > 0.0f ? base + log2f(sum) : neg_inf();
      if (whole) {
        const long long h = seg.hkv * group + row % group, q = row / group;
        u16* out = static_cast<u16*>(a.o) + seg.b * a.o_stride[0] + h * a.o_stride[1] +
                   q * a.o_stride[2] + col;
        *reinterpret_cast<u32*>(out) =
            C::kOutBf16 ? pack<true>(lo * inv, hi * inv) : pack<false>(lo * inv, hi * inv);
        if (a.lse != nullptr && col == 0) {
          a.lse[seg.b * a.lse_stride[0] + h * a.lse_stride[1] + q] = lse2 * kLn2;
        }
      } else {
        *reinterpret_cast<float2*>(d.part_o + (slot * RM + r) * S::kDV + col) =
            make_float2(lo * inv, hi * inv);
        if (col == 0) d.part_lse[slot * RM + r] = lse2;
      }
    }
    if constexpr (C::kTma) fence_async_shared();  // before the next piece's copies
    __syncthreads();                              // the join buffers are the next piece's stages
  }
}

// Key tiles before each batch entry of a ragged batch; one CTA.
template <int BN>
__device__ __forceinline__ void plan(const FwdArgs& a, const DecodeArgs& d) {
  allow_dependent_grids();  // the decode kernel waits for the prefix itself
  __shared__ long long carry[32];
  const int per = (a.batch + blockDim.x - 1) / blockDim.x;
  const int from = threadIdx.x * per;
  long long mine = 0;
  for (int b = from; b < from + per && b < a.batch; ++b) {
    mine += (clamp_keys(d.kv_lens[b], a.kv_len) + BN - 1) / BN;
  }
  // An inclusive scan of the threads' totals: within warps, then over them.
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  long long scan = mine;
#pragma unroll
  for (int step = 1; step < 32; step *= 2) {
    const long long up = __shfl_up_sync(0xffffffffu, scan, step);
    if (lane >= step) scan += up;
  }
  if (lane == 31) carry[warp] = scan;
  __syncthreads();
  if (warp == 0) {
    long long total = lane < (int)(blockDim.x / 32) ? carry[lane] : 0;
#pragma unroll
    for (int step = 1; step < 32; step *= 2) {
      const long long up = __shfl_up_sync(0xffffffffu, total, step);
      if (lane >= step) total += up;
    }
    carry[lane] = total;
  }
  __syncthreads();
  long long before = scan - mine + (warp > 0 ? carry[warp - 1] : 0);
  for (int b = from; b < from + per && b < a.batch; ++b) {
    d.tile_prefix[b] = before;
    before += (clamp_keys(d.kv_lens[b], a.kv_len) + BN - 1) / BN;
  }
  if (threadIdx.x == blockDim.x - 1) d.tile_prefix[a.batch] = before;
}

// One CTA per (segment, row of its block), blockIdx.x and blockIdx.y: joins
// the partials that the CTAs sharing the segment left. A thread per partial
// finds its weight, then a thread per column sums the weighted partials, many
// loads in flight at once: a loop that waits for each partial in turn costs a
// memory latency per partial, which was most of this kernel's time. Writes
// zeros and -inf for a batch entry without keys.
template <class C, int Threads>
__device__ __forceinline__ void merge(const FwdArgs& a, const DecodeArgs& d) {
  using S = Shape<C>;
  constexpr int RM = S::kRows, BN = S::kBN, DV = S::kDV, kWarps = Threads / 32;
  constexpr int kCols = (DV + Threads - 1) / Threads;  // each thread's columns
  constexpr int kInFlight = 16;                        // partials' loads at once
  __shared__ float reduced[kWarps];
  __shared__ float weights[Threads];

  wait_for_prior_grids();  // the partials of the decode kernel
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const long long index = blockIdx.x;
  const int r = blockIdx.y;
  Segment seg;
  seg.rb = (int)(index % d.row_blocks);
  seg.hkv = (int)(index / d.row_blocks % a.kv_heads);
  seg.b = (int)(index / d.row_blocks / a.kv_heads);
  seg.tiles = (keys_of(a, d, seg.b) + BN - 1) / BN;
  const int group = a.heads / a.kv_heads;
  const long long row = (long long)seg.rb * RM + r;
  if (row >= (long long)group * a.q_len) return;
  const long long units = (long long)a.kv_heads * d.row_blocks;
  seg.first = tiles_before(a, d, seg.b, BN) * units + (index % units) * seg.tiles;
  long long c0 = 0, c1 = -1;  // the CTAs that shared it
  const long long total = total_tiles(a, d, BN);
  if (seg.tiles > 0) {
    c0 = cta_of(seg.first, total, d.ctas);
    c1 = cta_of(seg.first + seg.tiles - 1, total, d.ctas);
    if (c0 == c1) return;  // one CTA, which wrote the output itself
  }
  // A ragged batch may have fewer tiles than CTAs: CTAs with empty ranges,
  // which wrote no partials, lie among those that did.
  auto idle = [&](long long cta) { return total * cta / d.ctas == total * (cta + 1) / d.ctas; };
  auto slot = [&](long long cta) { return (index + cta) * RM + r; };
  // The block's maximum of the threads' values.
  auto block_max = [&](float x) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) {
      x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, offset));
    }
    if (lane == 0) reduced[warp] = x;
    __syncthreads();
    x = reduced[0];
#pragma unroll
    for (int w = 1; w < kWarps; ++w) x = fmaxf(x, reduced[w]);
    return x;
  };
  auto lse_of = [&](long long cta) {
    return cta <= c1 && !idle(cta) ? d.part_lse[slot(cta)] : neg_inf();
  };

  // A thread's first partial's sum stays in a register for the weights: a
  // segment is rarely split more ways than the block has threads, and a
  // second load of it would cost a memory latency.
  const float own = lse_of(c0 + threadIdx.x);
  float m = own;
  for (long long cta = c0 + Threads + threadIdx.x; cta <= c1; cta += Threads) {
    m = fmaxf(m, lse_of(cta));
  }
  m = block_max(m);
  const float base = m == neg_inf() ? 0.0f : m;

  // Every thread sums the weights from shared memory as it reads them, so
  // the sum needs no reduction of its own.
  float sum = 0.0f, acc[kCols];
#pragma unroll
  for (int c = 0; c < kCols; ++c) acc[c] = 0.0f;
  for (long long first = c0; first <= c1; first += Threads) {
    const float lse = first == c0 ? own : lse_of(first + threadIdx.x);
    // 0 for an idle CTA, whose slot holds nothing
    weights[threadIdx.x] = lse == neg_inf() ? 0.0f : exp2f(lse - base);
    __syncthreads();
    const int count = (int)(c1 - first + 1 < Threads ? c1 - first + 1 : Threads);
    const float* o = d.part_o + slot(first) * DV;
#pragma unroll kInFlight
    for (int j = 0; j < count; ++j) {
      const float w = weights[j];
      sum += w;
#pragma unroll
      for (int c = 0; c < kCols; ++c) {
        const int col = threadIdx.x + c * Threads;
        if (col < DV && w != 0.0f) acc[c] += w * o[(long long)j * RM * DV + col];
      }
    }
    __syncthreads();  // `weights` is the next chunk's
  }

  const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
  const long long h = seg.hkv * group + row % group, q = row / group;
  u16* out = static_cast<u16*>(a.o) + seg.b * a.o_stride[0] + h * a.o_stride[1] + q * a.o_stride[2];
#pragma unroll
  for (int c = 0; c < kCols; ++c) {
    const int col = threadIdx.x + c * Threads;
    if (col < DV) {
      const float value = acc[c] * inv;  // in the low half of a pair
      out[col] = (u16)(C::kOutBf16 ? pack<true>(value, 0.0f) : pack<false>(value, 0.0f));
    }
  }
  if (a.lse != nullptr && threadIdx.x == 0) {
    a.lse[seg.b * a.lse_stride[0] + h * a.lse_stride[1] + q] =
        sum > 0.0f ? (base + log2f(sum)) * kLn2 : neg_inf();
  }
}

}  // namespace decode
}  // namespace aj
