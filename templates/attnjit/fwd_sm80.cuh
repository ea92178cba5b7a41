// The sm_80+ forward kernel family, FlashAttention-2 style: one CTA per block
// of BM query rows of one (batch, head); warps split the rows; K and V tiles of
// BN keys stream through shared memory with cp.async while tensor cores
// (mma.sync m16n8k16 fed by ldmatrix) compute S = Q K^T and O += P V with an
// online softmax in registers.
//
// The variant plugs in through a struct V with
//   V::Params                              run-time params and tensors
//   V::kHasMask, V::kIdentityScore         what can be skipped
//   V::kCompactMask                        the mask is heavy: evaluate it in a compact loop
//   V::kClassTable, kClassByBatch, kClassHeads  tile classes come from a table (tile_walk.cuh)
//   V::mask(p, Index)      -> bool         one element
//   V::kMaskParts, RowPart, ColPart, row_part, col_part, mask_of_parts
//                                          a heavy mask in parts (codegen/mask_parts.hpp)
//   V::score(p, Index, s, k_step) -> float the score expression of the scaled logit;
//                                          k_step: ix.k's compile-time offset in the row
//   V::classify(p, Tile)   -> TileClass    a whole tile, by interval arithmetic
// and the config through a struct C with kBlockM, kBlockN, kWarps, kHeadDim,
// kHeadDimV, kBf16 (else fp16), kOutBf16 and kPositiveScale (the variant's scale is > 0).
#pragma once

#include "attnjit/fragment.cuh"
#include "attnjit/tile_walk.cuh"

namespace aj {
namespace sm80 {

// 16 bytes global -> shared, zero-filled when `valid` is false.
__device__ __forceinline__ void cp_async_16(void* dst, const void* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
__device__ __forceinline__ void cp_async_wait_all() {
  asm volatile("cp.async.wait_all;\n" ::: "memory");
}

// `address` is a shared-memory address; callers add compile-time offsets to a
// per-thread base so that no address arithmetic is repeated in the loops.
__device__ __forceinline__ void ldmatrix_x4(u32 (&r)[4], u32 address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}
__device__ __forceinline__ void ldmatrix_x4_trans(u32 (&r)[4], u32 address) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

template <bool Bf16>
__device__ __forceinline__ void mma_16816(float (&d)[4], const u32 (&a)[4], u32 b0, u32 b1) {
  if constexpr (Bf16) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// Rows of `Cols` 16-bit values, global -> shared in 16-byte pieces; rows at or
// past `limit` are zero-filled so that no garbage (or NaN) enters the products.
// Where the threads cover whole rows, each keeps one column and walks down the
// rows with one running pointer: two registers of addresses, not one per piece.
template <int Rows, int Cols, int Threads>
__device__ __forceinline__ void load_tile(u16* dst, int dst_stride, const u16* src,
                                          long long src_stride, int row0, int limit) {
  constexpr int kChunksPerRow = Cols / 8;
  if constexpr (Threads % kChunksPerRow != 0) {
    // Rows that do not split evenly over the threads (head dim 96, 192, ...).
    for (int c = threadIdx.x; c < Rows * kChunksPerRow; c += Threads) {
      const int r = c / kChunksPerRow;
      const int col = (c % kChunksPerRow) * 8;
      const bool valid = row0 + r < limit;
      cp_async_16(dst + r * dst_stride + col,
                  valid ? src + (long long)(row0 + r) * src_stride + col : src, valid);
    }
    return;
  }
  constexpr int kRowStep = Threads / kChunksPerRow > 0 ? Threads / kChunksPerRow : 1;
  const int col = (threadIdx.x % kChunksPerRow) * 8;
  const int first = threadIdx.x / kChunksPerRow;
  const u16* from = src + (long long)(row0 + first) * src_stride + col;
  u16* to = dst + first * dst_stride + col;
#pragma unroll
  for (int r = 0; r < Rows; r += kRowStep) {
    if (first + r < Rows) {
      const bool valid = row0 + first + r < limit;
      cp_async_16(to, valid ? from : src, valid);
    }
    from += kRowStep * src_stride;
    to += kRowStep * dst_stride;
  }
}

template <class C>
struct Shape {
  static constexpr int kBM = C::kBlockM, kBN = C::kBlockN, kWarps = C::kWarps;
  static constexpr int kD = C::kHeadDim, kDV = C::kHeadDimV;
  static constexpr int kThreads = kWarps * 32;
  static constexpr int kWarpRows = kBM / kWarps;
  static constexpr int kMTiles = kWarpRows / 16;  // m16 tiles per warp
  static constexpr int kNTiles = kBN / 8;         // n8 tiles of S
  static constexpr int kDTiles = kDV / 8;         // n8 tiles of O
  // Rows padded by 16 bytes: ldmatrix's 8 rows then hit 8 different bank groups.
  static constexpr int kQStride = (kD > kDV ? kD : kDV) + 8;
  static constexpr int kKStride = kD + 8;
  static constexpr int kVStride = kDV + 8;
  // The generator sizes the launch's shared memory (C::kSmemBytes); this
  // layout must be what it sized.
  static_assert(C::kSmemBytes == 2 * (kBM * kQStride + kBN * kKStride + kBN * kVStride),
                "shared memory as the generator sized it");
  static_assert(kWarpRows % 16 == 0, "each warp takes whole m16 tiles");
  static_assert(kBN % 16 == 0 && kD % 16 == 0 && kDV % 16 == 0, "k16 steps and n16 pairs");
};

template <class V, class C>
__device__ __forceinline__ void forward(const FwdArgs& a, const typename V::Params& p) {
  using S = Shape<C>;
  constexpr bool kBf16 = C::kBf16;
  constexpr int BM = S::kBM, BN = S::kBN, MT = S::kMTiles, NT = S::kNTiles, DT = S::kDTiles;

  // The runtime starts this kernel under its classifier's (grid_dependency.cuh).
  if constexpr (V::kClassTable) wait_for_prior_grids();
  extern __shared__ __align__(16) unsigned char smem[];
  u16* sQ = reinterpret_cast<u16*>(smem);
  u16* sK = sQ + BM * S::kQStride;
  u16* sV = sK + BN * S::kKStride;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  // What turns an S entry into a log2-domain logit: the scale, when it is still to apply.
  const float kFactor = V::kIdentityScore && C::kPositiveScale ? a.scale_log2 : 1.0f;
  const int g = lane / 4, t = lane % 4;  // row within 8 and column pair of mma fragments
  const CtaTile tile = cta_tile<BM, C::kHeadGroup>(a);
  if (tile.h >= a.heads) return;
  const int b = tile.b, h = tile.h, hkv = tile.hkv, m0 = tile.m0;
  const int q_len = a.q_len, kv_len = a.kv_len;

  Index ix = fwd_index(a, b, h, hkv);

  const u16* q_ptr = static_cast<const u16*>(a.q) + b * a.q_stride[0] + h * a.q_stride[1];
  const u16* k_ptr = static_cast<const u16*>(a.k) + b * a.k_stride[0] + hkv * a.k_stride[1];
  const u16* v_ptr = static_cast<const u16*>(a.v) + b * a.v_stride[0] + hkv * a.v_stride[1];
  u16* o_ptr = static_cast<u16*>(a.o) + b * a.o_stride[0] + h * a.o_stride[1];

  const long long q_last = (m0 + BM < q_len ? m0 + BM : q_len) - 1;
  TileWalk<V, BM, BN> walk(p, a, ix, m0, q_last);
  const int n_tiles = walk.n_tiles;

  load_tile<BM, S::kD, S::kThreads>(sQ, S::kQStride, q_ptr, a.q_stride[2], m0, q_len);
  int n = walk.first();
  if (n < n_tiles) {
    load_tile<BN, S::kD, S::kThreads>(sK, S::kKStride, k_ptr, a.k_stride[2], n * BN, kv_len);
  }
  cp_async_commit();

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

  const int warp_row0 = warp * S::kWarpRows;
  // Each lane's row and 8-column half in the ldmatrix x4 patterns (A of Q; B of
  // K, two n8 tiles by two k8 halves; B of V transposed, two k8 halves by two n8 tiles).
  const u32 q_frag = smem_addr(sQ + (warp_row0 + lane % 16) * S::kQStride + (lane / 16) * 8);
  const u32 k_frag =
      smem_addr(sK + (lane % 8 + (lane / 16) * 8) * S::kKStride + ((lane / 8) % 2) * 8);
  const u32 v_frag =
      smem_addr(sV + (lane % 8 + ((lane / 8) % 2) * 8) * S::kVStride + (lane / 16) * 8);
  while (n < n_tiles) {
    const TileClass tile_class = walk.found;
    const int n0 = n * BN;
    cp_async_wait_all();
    __syncthreads();  // K[n] landed; every warp is done with V of the last tile
    load_tile<BN, S::kDV, S::kThreads>(sV, S::kVStride, v_ptr, a.v_stride[2], n0, kv_len);
    cp_async_commit();

    // S = Q K^T
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
        ldmatrix_x4(kb, k_frag + 2 * (np * 16 * S::kKStride + ks * 16));
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma_16816<kBf16>(acc_s[mt][2 * np], qa[mt], kb[0], kb[1]);
          mma_16816<kBf16>(acc_s[mt][2 * np + 1], qa[mt], kb[2], kb[3]);
        }
      }
    }

    const long long q_warp = m0 + warp_row0;
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      apply_score<V, C::kPositiveScale, false>(acc_s[mt], p, ix, a.scale, a.scale_log2,
                                               HeadRows{q_warp + mt * 16 + g}, n0, t);
    }
    // The mask, only where the tile needs it: a branch around the whole loop,
    // uniform across the CTA, so full tiles pay nothing for it.
    if (tile_class == kPartial || n0 + BN > kv_len) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt)
        apply_mask<V>(acc_s[mt], p, ix, HeadRows{q_warp + mt * 16 + g}, n0, t);
    }
#pragma unroll
    for (int mt = 0; mt < MT; ++mt) {
      float rescale[2];
      online_softmax(acc_s[mt], row_max[mt], row_sum[mt], kFactor, rescale);
      rescale_rows(acc_o[mt], rescale);
    }

    // P in 16 bits, packed now: the float scores die here, which frees half
    // their registers for the P V products (the m16n8 C layout is the A layout).
    u32 pa[BN / 16][MT][4];
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
#pragma unroll
      for (int mt = 0; mt < MT; ++mt) pack_a<kBf16>(pa[kk][mt], acc_s[mt], kk);
    }

    const int next = walk.next(n + 1);
    cp_async_wait_all();
    __syncthreads();  // V[n] landed; every warp is done reading K[n]
    if (next < n_tiles) {
      load_tile<BN, S::kD, S::kThreads>(sK, S::kKStride, k_ptr, a.k_stride[2], next * BN, kv_len);
    }
    cp_async_commit();

    // O += P V
#pragma unroll
    for (int kk = 0; kk < BN / 16; ++kk) {
#pragma unroll
      for (int dp = 0; dp < DT / 2; ++dp) {
        u32 vb[4];
        ldmatrix_x4_trans(vb, v_frag + 2 * (kk * 16 * S::kVStride + dp * 16));
#pragma unroll
        for (int mt = 0; mt < MT; ++mt) {
          mma_16816<kBf16>(acc_o[mt][2 * dp], pa[kk][mt], vb[0], vb[1]);
          mma_16816<kBf16>(acc_o[mt][2 * dp + 1], pa[kk][mt], vb[2], vb[3]);
        }
      }
    }
    n = next;
  }

  // Epilogue: normalise, stage O in shared memory (each warp's own Q rows), then
  // write whole 16-byte pieces of rows. When every tile was empty the Q load,
  // spread over all threads, may still be landing in those rows.
  cp_async_wait_all();
  __syncthreads();
#pragma unroll
  for (int mt = 0; mt < MT; ++mt) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float sum = quad_sum(row_sum[mt][r]);
      const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
      const int row = warp_row0 + mt * 16 + g + r * 8;
#pragma unroll
      for (int dt = 0; dt < DT; ++dt) {
        const float lo = acc_o[mt][dt][2 * r] * inv, hi = acc_o[mt][dt][2 * r + 1] * inv;
        const u32 packed = C::kOutBf16 ? pack<true>(lo, hi) : pack<false>(lo, hi);
        *reinterpret_cast<u32*>(sQ + row * S::kQStride + dt * 8 + 2 * t) = packed;
      }
      if (a.lse != nullptr && t == 0 && m0 + row < q_len) {
        a.lse[b * a.lse_stride[0] + h * a.lse_stride[1] + m0 + row] = row_lse(row_max[mt][r], sum);
      }
    }
  }
  __syncthreads();
  constexpr int kChunksPerRow = S::kDV / 8;
  for (int c = threadIdx.x; c < BM * kChunksPerRow; c += S::kThreads) {
    const int r = c / kChunksPerRow;
    const int col = (c % kChunksPerRow) * 8;
    if (m0 + r < q_len) {
      *reinterpret_cast<uint4*>(o_ptr + (long long)(m0 + r) * a.o_stride[2] + col) =
          *reinterpret_cast<const uint4*>(sQ + r * S::kQStride + col);
    }
  }
}

}  // namespace sm80
}  // namespace aj
