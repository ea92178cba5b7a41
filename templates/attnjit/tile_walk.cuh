// The walk over a CTA's key tiles that both forward families share: the
// element index of the CTA's (batch, head), and the next tile that is not
// empty by the variant's interval classifier. Every thread (or every warp of
// a warp-specialised CTA) walks alike, so the result is uniform.
#pragma once

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

// Query rows [q0, q1] against key tiles of BN keys. Classification reads the
// variant's tensors with warp-wide reads, so whole warps must call next().
template <class V, int BN>
struct TileWalk {
  __device__ TileWalk(const typename V::Params& params, const Index& at, long long first_row,
                      long long last_row)
      : p(params), ix(at), q0(first_row), q1(last_row), n_tiles((int)((at.kv_len + BN - 1) / BN)) {}

  __device__ __forceinline__ TileClass classify(int n) const {
    if constexpr (!V::kHasMask) {
      return kFull;
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
  // its class is left in `found`. A classifier of pure index arithmetic runs
  // on 32 tiles at once, a tile per lane, so that the runs of empty tiles
  // before a window or past a causal diagonal cost a few steps, not one
  // per tile; one that reads tensors shares the warp's lanes for its reads.
  __device__ __forceinline__ int next(int n) {
    if constexpr (V::kClassifyPerLane) {
      for (; n < n_tiles; n += 32) {
        const int mine = n + (int)(threadIdx.x % 32);
        const TileClass c = mine < n_tiles ? classify(mine) : kEmpty;
        const unsigned live = __ballot_sync(0xffffffffu, c != kEmpty);
        if (live != 0) {
          const int first = __ffs(live) - 1;
          found = (TileClass)__shfl_sync(0xffffffffu, (int)c, first);
          return n + first;
        }
      }
      return n_tiles;
    } else {
      for (; n < n_tiles; ++n) {
        found = classify(n);
        if (found != kEmpty) break;
      }
      return n;
    }
  }

  const typename V::Params& p;
  Index ix;
  long long q0, q1;
  int n_tiles;
  TileClass found = kFull;
};

}  // namespace aj
