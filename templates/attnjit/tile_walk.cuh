// The walk over a CTA's key tiles that both forward families share: the
// element index of the CTA's (batch, head), and the next tile that is not
// empty by the variant's interval classifier or its tile class table. Every
// thread (or every warp of a warp-specialised CTA) walks alike, so the result
// is uniform.
#pragma once

#include "attnjit/grid_dependency.cuh"
#include "attnjit/prelude.cuh"

namespace aj {

__device__ __forceinline__ Index fwd_index(const FwdArgs& a, int b, int h, int hkv) {
  Index ix;
  ix.b = b;
  ix.h = h;
  ix.hkv = hkv;
  ix.batch = a.batch;
  ix.heads = a.heads;
  ix.kv_heads = a.kv_heads;
  ix.q_len = a.q_len;
  ix.kv_len = a.kv_len;
  ix.q = 0;
  ix.k = 0;
  return ix;
}

// A CTA's (batch, head) and query tile. The grid is [query tiles x kGroup,
// ceil(heads / kGroup), batch] (codegen's grid_head_group): each group of
// kGroup heads takes the last query tile of each of its heads first, then
// the tiles before them, as the grid is dispatched in order. Past the last
// head when kGroup does not divide the heads: such a CTA has nothing to do.
// Of indices alone, not of the kernel's arguments: a score that reads a
// tensor by head (an ALiBi slope) then keeps its read out of the tile loop
// (sm_90a SASS of causal_alibi: 8 global loads, against 262 with h shifted
// by an argument, which cost it 29% on the H100).
struct CtaTile {
  int b, h, hkv;
  int m0;  // the tile's first query row
};

template <int BM, int kGroup>
__device__ __forceinline__ CtaTile cta_tile(const FwdArgs& a) {
  CtaTile t;
  t.b = (int)blockIdx.z;
  t.h = (int)(blockIdx.y * kGroup + blockIdx.x % kGroup);
  t.hkv = t.h / (a.heads / a.kv_heads);
  t.m0 = (int)(gridDim.x / kGroup - 1 - blockIdx.x / kGroup) * BM;
  return t;
}

// Work item `item` of a persistent grid (fa3_sm90's persistent=1): the
// items in the order cta_tile's grid is dispatched in, without its CTAs
// past the last head, so every item has work.
template <int BM, int kGroup>
__device__ __forceinline__ CtaTile item_tile(const FwdArgs& a, unsigned item) {
  const unsigned q_tiles = (unsigned)(a.q_len + BM - 1) / BM;
  const unsigned per_batch = q_tiles * (unsigned)a.heads;
  const unsigned in_batch = item % per_batch;
  const unsigned group = in_batch / (q_tiles * kGroup);
  const unsigned in_group = in_batch - group * q_tiles * kGroup;
  const unsigned rest = (unsigned)a.heads - group * kGroup;
  const unsigned size = rest < kGroup ? rest : kGroup;
  CtaTile t;
  t.b = (int)(item / per_batch);
  t.h = (int)(group * kGroup + in_group % size);
  t.hkv = t.h / (a.heads / a.kv_heads);
  t.m0 = (int)(q_tiles - 1 - in_group / size) * BM;
  return t;
}

// Work items of a persistent grid: every query tile of every (batch, head).
template <int BM>
__device__ __forceinline__ unsigned work_items(const FwdArgs& a) {
  return (unsigned)((a.q_len + BM - 1) / BM) * (unsigned)a.heads * (unsigned)a.batch;
}

// The tile class table (a mask that reads tensors): planes of q_tiles x
// k_tiles bytes, one per batch and per head only where the mask names them.
template <class V>
__device__ __forceinline__ long long class_planes(const FwdArgs& a) {
  const long long heads = V::kClassHeads == 1 ? a.heads : V::kClassHeads == 2 ? a.kv_heads : 1;
  return (V::kClassByBatch ? a.batch : 1) * heads;
}

template <class V>
__device__ __forceinline__ long long class_plane(int b, int h, int hkv, const FwdArgs& a) {
  const long long plane = V::kClassByBatch ? b : 0;
  if constexpr (V::kClassHeads == 1) return plane * a.heads + h;
  if constexpr (V::kClassHeads == 2) return plane * a.kv_heads + hkv;
  return plane;
}

// Query rows [q0, q1] (query tile q0 / BM) against key tiles of BN keys.
template <class V, int BM, int BN>
struct TileWalk {
  __device__ TileWalk(const typename V::Params& params, const FwdArgs& a, const Index& at,
                      long long first_row, long long last_row)
      : p(params), ix(at), q0(first_row), q1(last_row), n_tiles((int)((at.kv_len + BN - 1) / BN)) {
    span_end = n_tiles;
    if constexpr (V::kClassTable) {
      const long long q_tiles = (at.q_len + BM - 1) / BM;
      const long long row = class_plane<V>(at.b, at.h, at.hkv, a) * q_tiles + first_row / BM;
      classes = a.tile_class + row * n_tiles;
      span = a.tile_span + 2 * row;
    }
  }

  __device__ __forceinline__ TileClass classify(int n) const {
    if constexpr (!V::kHasMask) {
      return kFull;
    } else if constexpr (V::kClassTable) {
      return (TileClass)classes[n];
    } else {
      Tile tile;
      tile.at = ix;
      tile.q0 = q0;
      tile.q1 = q1;
      tile.k0 = (long long)n * BN;
      tile.k1 = ((long long)n * BN + BN < ix.kv_len ? (long long)n * BN + BN : ix.kv_len) - 1;
      return V::classify(p, tile);
    }
  }

  // The first tile at or after n that is not empty (n_tiles when none);
  // its class is left in `found`. 32 tiles at once, a tile per lane, so that
  // the runs of empty tiles before a window, past a causal diagonal or
  // outside a document cost a few steps, not one per tile.
  __device__ __forceinline__ int next(int n) {
    for (; n < span_end; n += 32) {
      const int mine = n + (int)(threadIdx.x % 32);
      const TileClass c = mine < span_end ? classify(mine) : kEmpty;
      const unsigned live = __ballot_sync(0xffffffffu, c != kEmpty);
      if (live != 0) {
        const int first = __ffs(live) - 1;
        found = (TileClass)__shfl_sync(0xffffffffu, (int)c, first);
        return n + first;
      }
    }
    return n_tiles;
  }

  // next(0), with two tiles a lane in its first step: a CTA's first load
  // waits for it, and the second tile's classification or table read
  // overlaps the first's, as does the read of a table's span, which moves
  // the walk past the step when the span starts after it.
  __device__ __forceinline__ int first() {
    int span_first = 0;
    if constexpr (V::kClassTable) {
      if (n_tiles == 0) return 0;  // no keys: no table either
      const uint2 s = *(const uint2*)span;
      span_first = n_tiles - (int)s.x;
      span_end = (int)s.y;
    }
    const int lo = (int)(threadIdx.x % 32), hi = lo + 32;
    const TileClass c_lo = lo < n_tiles ? classify(lo) : kEmpty;
    const TileClass c_hi = hi < n_tiles ? classify(hi) : kEmpty;
    const unsigned live_lo = __ballot_sync(0xffffffffu, c_lo != kEmpty);
    const unsigned live_hi = __ballot_sync(0xffffffffu, c_hi != kEmpty);
    if (live_lo != 0) {
      const int at = __ffs(live_lo) - 1;
      found = (TileClass)__shfl_sync(0xffffffffu, (int)c_lo, at);
      return at;
    }
    if (live_hi != 0) {
      const int at = __ffs(live_hi) - 1;
      found = (TileClass)__shfl_sync(0xffffffffu, (int)c_hi, at);
      return 32 + at;
    }
    return next(span_first > 64 ? span_first : 64);
  }

  const typename V::Params& p;
  Index ix;
  long long q0, q1;
  int n_tiles;
  int span_end;  // past the last tile that may not be empty
  const unsigned char* classes = nullptr;
  const unsigned* span = nullptr;
  TileClass found = kFull;
};

// The classifier kernel of a variant with a class table: a.class_lanes tiles
// a warp, a tile a lane. The warp's lanes read tensors together
// (aj::iv_fold), so a lane without a tile of its own (past the last tile, or
// past class_lanes) classifies another lane's tile, not live, and stores
// nothing, rather than leave.
template <class V, int BM, int BN>
__device__ __forceinline__ void classify_tiles(const FwdArgs& a, const typename V::Params& p) {
  allow_dependent_grids();  // the forward kernel waits for the table itself
  // In 32 bits (the runtime keeps tables under 2^31 tiles): a 64-bit
  // division is a call, and values live across it go to local memory.
  const unsigned q_tiles = (a.q_len + BM - 1) / BM, k_tiles = (a.kv_len + BN - 1) / BN;
  const unsigned tiles = (unsigned)class_planes<V>(a) * q_tiles * k_tiles;
  const unsigned lane = threadIdx.x % 32;
  const unsigned first = (blockIdx.x * blockDim.x + threadIdx.x) / 32 * (unsigned)a.class_lanes;
  if (first >= tiles) return;  // whole warps leave together
  const unsigned mine = first + lane % (unsigned)a.class_lanes;
  const bool owner = lane < (unsigned)a.class_lanes && mine < tiles;
  const unsigned tile = mine < tiles ? mine : tiles - 1;
  const unsigned kt = tile % k_tiles, qt = tile / k_tiles % q_tiles;
  unsigned plane = tile / k_tiles / q_tiles;
  const int group = a.heads / a.kv_heads;
  int b = 0, h = 0, hkv = 0;
  if constexpr (V::kClassHeads == 1) {
    h = (int)(plane % a.heads);
    hkv = h / group;
    plane /= a.heads;
  } else if constexpr (V::kClassHeads == 2) {
    hkv = (int)(plane % a.kv_heads);
    h = hkv * group;
    plane /= a.kv_heads;
  }
  if constexpr (V::kClassByBatch) b = (int)plane;
  Tile t;
  t.at = fwd_index(a, b, h, hkv);
  t.q0 = (long long)qt * BM;
  t.q1 = (t.q0 + BM < a.q_len ? t.q0 + BM : a.q_len) - 1;
  t.k0 = (long long)kt * BN;
  t.k1 = (t.k0 + BN < a.kv_len ? t.k0 + BN : a.kv_len) - 1;
  t.live = owner;
  const TileClass c = V::classify(p, t);
  if (owner) a.tile_class[tile] = (unsigned char)c;
  // The span of the row's live tiles, an atomic pair a row a warp: the lanes
  // of each row among the warp's tiles agree on its maxima first.
  const unsigned row = tile / k_tiles;
  const bool live = owner && c != kEmpty;
  const unsigned peers = __match_any_sync(0xffffffffu, row);
  const unsigned from_end = __reduce_max_sync(peers, live ? k_tiles - kt : 0U);
  const unsigned end = __reduce_max_sync(peers, live ? kt + 1 : 0U);
  if (lane == (unsigned)__ffs((int)peers) - 1 && end != 0) {
    atomicMax(a.tile_span + 2 * row, from_end);
    atomicMax(a.tile_span + 2 * row + 1, end);
  }
}

// A block mask for `sparsity block(block_m, block_n)` from the variant's
// element mask, exactly: block (b, h, i, j) of bool [batch, heads,
// ceil(q_len / block_m), ceil(kv_len / block_n)] is true when the mask holds
// for some query row of block i and key of block j. A warp per block, 32
// elements a step, leaving at the first that holds.
template <class V>
__device__ __forceinline__ void build_block_mask(const FwdArgs& a, int block_m, int block_n,
                                                 unsigned char* out, const typename V::Params& p) {
  const long long q_blocks = (a.q_len + block_m - 1) / block_m;
  const long long k_blocks = (a.kv_len + block_n - 1) / block_n;
  const long long block = ((long long)blockIdx.x * blockDim.x + threadIdx.x) / 32;
  if (block >= (long long)a.batch * a.heads * q_blocks * k_blocks) return;  // whole warps
  const long long kb = block % k_blocks, qb = block / k_blocks % q_blocks;
  const int h = (int)(block / k_blocks / q_blocks % a.heads);
  const int b = (int)(block / k_blocks / q_blocks / a.heads);
  Index ix = fwd_index(a, b, h, h / (a.heads / a.kv_heads));
  const long long q0 = qb * block_m, k0 = kb * block_n;
  const long long rows = (q0 + block_m < a.q_len ? q0 + block_m : a.q_len) - q0;
  const long long cols = (k0 + block_n < a.kv_len ? k0 + block_n : a.kv_len) - k0;
  bool any = false;
  for (long long base = 0; base < rows * cols && !any; base += 32) {
    const long long e = base + threadIdx.x % 32;
    bool holds = false;
    if (e < rows * cols) {
      ix.q = q0 + e / cols;
      ix.k = k0 + e % cols;
      holds = V::mask(p, ix);
    }
    any = __any_sync(0xffffffffu, holds);
  }
  if (threadIdx.x % 32 == 0) out[block] = any ? 1 : 0;
}

}  // namespace aj
