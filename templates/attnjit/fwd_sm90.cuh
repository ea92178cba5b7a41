// The Hopper (sm_90a) forward kernel family, FlashAttention-3 style: one CTA
// per block of BM query rows of one (batch, head), as warpgroups of 128
// threads. Warpgroup 0 produces: one warp walks the key tiles and has the
// tensor memory accelerator (TMA) copy Q once and K and V tiles into a ring of
// shared-memory stages, each completing on an mbarrier; it leaves the tile's
// index and class beside the stage, so only it runs the classifier.
// Warpgroups 1.. consume: each owns 64 query rows, computes S = Q K^T and
// O += P V with warpgroup MMA (wgmma; Q, K and V from shared memory, P from
// registers) and the online softmax in registers; it frees a stage's K once
// its QK^T is done and V once its PV is, each on its own mbarrier.
// As FlashAttention-3 does, a consumer issues the products of tile n+1's
// QK^T and tile n's PV together and runs tile n+1's softmax while PV runs,
// and the consumers take turns at issuing (ping-pong on named barriers), so
// one's softmax runs under another's products. Producer and consumers trade
// registers with setmaxnreg.
//
// With C::kPersistent the grid is one CTA per SM and each CTA takes work
// items (query tiles of a (batch, head)) until none is left: its first by
// its index, the rest from a counter in global memory. The producer loads
// the next item's Q into a second buffer and its first K and V tiles while
// the consumers finish the current one, so an item's start (Q and its first
// tiles from memory) and the launch of a CTA run under another item's
// products; a new CTA per item cannot, one CTA an SM (a third of a short
// CTA's time, H100 session 26). Tokens tell the consumers where an item
// starts (tile_token) and which one it is (item_of).
//
// Shared-memory tiles are in the 128-byte swizzled layout that both TMA and
// wgmma read: a tile of R rows of W bytes is W/128 blocks of R rows of 128
// bytes, 16-byte chunk c of row r stored at chunk c ^ (r % 8).
//
// 8-bit Q and K (C::kQk8) are read as 16-bit ones are, with k steps of 32
// elements. 8-bit V (C::kV8): wgmma wants fp8 B K-major, so V comes
// transposed from the runtime (fp8_layout.cuh) and P is rounded to e4m3 in
// registers. fp8 inputs (both) have dequantisation factors per head or per
// Q row and 64-key block of K, which scale the scores, and V's per head or
// channel, which scale the output. quant sage (C::kQuant,
// sage_quant.cuh) has int8 Q and K, whose products accumulate int32, with a
// factor per 16 rows of Q (a warp's) and per 64 keys of K, which take each
// score back to a value with each query's dot product with the mean that
// smoothing took out of K; its V is fp8 with factors per channel, which
// scale the output, or the 16-bit input itself.
//
// The variant plugs in as for the sm_80 family (fwd_sm80.cuh). The config C
// has kBlockM (64 per consumer warpgroup), kBlockN, kStages, kHeadDim,
// kHeadDimV (multiples of 64), kBf16, kQk8, kV8, kQuant, kFp8BlockScales, kOutBf16, kPositiveScale,
// kExpFmaEighths (online_softmax's share of exponentials on the FMA pipe), kConsumers and
// the register split kProducerRegs / kConsumerRegs (0: no setmaxnreg); the
// generator adds struct Mma with the wgmma instructions of the config's shapes:
//   C::Mma::qk(float (&s)[kBlockN / 8][4], u64 q_desc, u64 k_desc, int accumulate)
//   C::Mma::pv(float (&o)[kHeadDimV / 8][4], const u32 (&p)[4], u64 v_desc)
#pragma once

#define AJ_INLINE_DIVISION
#include "attnjit/fragment.cuh"
#include "attnjit/sage_quant.cuh"
#include "attnjit/tile_walk.cuh"
#include "attnjit/tma.cuh"

namespace aj {
namespace sm90 {

// --- wgmma --------------------------------------------------------------------
// A shared-memory matrix descriptor for the 128-byte swizzle: start address,
// leading byte offset (between 64-column blocks of an N-major operand) and
// stride byte offset (between groups of 8 rows), in 16-byte units.
__device__ __forceinline__ u64 smem_desc(const void* p, u32 leading_bytes) {
  return (u64)((smem_addr(p) & 0x3ffff) >> 4) | ((u64)(leading_bytes >> 4) << 16) |
         ((u64)(1024 >> 4) << 32) | (1ull << 62);
}
__device__ __forceinline__ void wgmma_fence() {
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
}
__device__ __forceinline__ void wgmma_commit() {
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}
template <int Pending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(Pending) : "memory");
}
// Keeps the compiler from moving accesses of accumulators across the
// asynchronous MMAs that own them.
template <int N>
__device__ __forceinline__ void fence_operands(float (&x)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) asm volatile("" : "+f"(x[i][j])::"memory");
  }
}
template <int N>
__device__ __forceinline__ void fence_operands(int (&x)[N][4]) {
#pragma unroll
  for (int i = 0; i < N; ++i) {
#pragma unroll
    for (int j = 0; j < 4; ++j) asm volatile("" : "+r"(x[i][j])::"memory");
  }
}

template <int Regs>
__device__ __forceinline__ void regs_dec() {
  asm volatile("setmaxnreg.dec.sync.aligned.u32 %0;\n" ::"n"(Regs));
}
template <int Regs>
__device__ __forceinline__ void regs_inc() {
  asm volatile("setmaxnreg.inc.sync.aligned.u32 %0;\n" ::"n"(Regs));
}

// Named barriers: 1..3 over one consumer warpgroup (0 is the CTA's start),
// 4..6 for the consumers' turns at issuing products (Turns), 7 for the
// producer's loader to wait for the barriers' initialisation.
__device__ __forceinline__ void warpgroup_sync(int id) {
  asm volatile("bar.sync %0, 128;\n" ::"r"(id) : "memory");
}

// Round-robin turns of the consumer warpgroups: a warpgroup waits for its
// turn, issues its products, and passes the turn to the next one. Every
// consumer takes the same number of turns (they walk the same tiles), so
// the first warpgroup's last wait, in finish(), takes the last one's final
// pass and no arrival outlives the kernel, however many items it ran.
template <int Consumers>
struct Turns {
  int self;
  __device__ __forceinline__ void first() const {
    if (Consumers > 1 && self == Consumers - 1) arrive(0);
  }
  __device__ __forceinline__ void wait() const {
    if (Consumers > 1) asm volatile("bar.sync %0, 256;\n" ::"r"(4 + self) : "memory");
  }
  __device__ __forceinline__ void pass() const {
    if (Consumers > 1) arrive((self + 1) % Consumers);
  }
  __device__ __forceinline__ void finish() const {
    if (self == 0) wait();
  }
  __device__ __forceinline__ static void arrive(int to) {
    asm volatile("bar.arrive %0, 256;\n" ::"r"(4 + to) : "memory");
  }
};

// What the producer leaves beside a stage: its tile, its class and whether
// it is its item's first; an item without tiles; or the end.
__device__ __forceinline__ int tile_token(int n, TileClass c, bool first) {
  return n * 8 + (first ? 4 : 0) + (int)c;
}
// A tile token's first key and class (not negative: unsigned division is a
// shift, where signed takes four more instructions a tile).
template <int BN>
__device__ __forceinline__ int token_key0(int token) {
  return (int)((unsigned)token / 8) * BN;
}
__device__ __forceinline__ int token_class(int token) { return (int)((unsigned)token % 4); }
constexpr int kNoMoreTiles = -1;
constexpr int kEmptyItem = -2;
// Whether the token is a tile of the item before it.
__device__ __forceinline__ bool token_continues(int token) {
  return token >= 0 && (token & 4) == 0;
}

template <class C>
struct Shape {
  static constexpr int kBM = C::kBlockM, kBN = C::kBlockN, kStages = C::kStages;
  static constexpr int kD = C::kHeadDim, kDV = C::kHeadDimV;
  // Bytes of a Q or K element and of V's, and of a row of Q or K: wgmma's k
  // step and the swizzle's 128-byte rows are the same bytes whatever the type.
  static constexpr int kQkE = C::kQk8 ? 1 : 2, kVE = C::kV8 ? 1 : 2;
  static constexpr int kDBytes = kD * kQkE;
  static constexpr int kQBytes = kBM * (kDBytes > kDV * 2 ? kDBytes : kDV * 2);  // O staged there
  static constexpr int kKBytes = kBN * kDBytes;
  static constexpr int kVBytes = kBN * kDV * kVE;
  // A persistent CTA loads an item's Q while the one before it runs.
  static constexpr int kQBuffers = C::kPersistent ? 2 : 1;
  static constexpr int kTileBytes = kQBuffers * kQBytes + kStages * (kKBytes + kVBytes);
  // The generator sizes the launch's shared memory (C::kSmemBytes): this
  // layout, 1024 bytes of slack to align the tiles to the swizzle's period,
  // then the barriers (Q full per buffer, and empty where persistent; full
  // K, full V, empty K, empty V per stage) and a tile token per stage (and
  // its item where persistent).
  static constexpr int kQBarriers = C::kPersistent ? 2 * kQBuffers : 1;
  static constexpr int kTokens = C::kPersistent ? 2 * kStages : kStages;
  static_assert(C::kSmemBytes == 1024 + kTileBytes + (kQBarriers + 4 * kStages) * 8 + kTokens * 4,
                "shared memory as the generator sized it");
  static constexpr int kThreads = 128 * (C::kConsumers + 1);
  static_assert(kBM == 64 * C::kConsumers, "each consumer warpgroup takes 64 rows");
  static_assert(kDBytes % 128 == 0 && kDV % 64 == 0, "whole 128-byte swizzle rows");
  static_assert(kBN % 16 == 0 && kBN <= 256 && kDV <= 256, "wgmma n and k steps");
  static_assert(!C::kV8 || kBN % 128 == 0, "V transposed: rows of whole 128 keys");
  static_assert(kStages >= 2, "tile n+1's QK^T is issued while tile n's stage is held");
  static constexpr int kBoxCols = 128 / kQkE;  // Q or K elements in a TMA box's 128-byte row
};

// fp8 P fragments of wgmma's k32 A operand (register j: rows g + 8 * (j % 2),
// keys 16 * (j / 2) + 4 * t .. + 3). A thread holds scores of keys 8 * n + 2 * t
// and + 1 of each 8-key tile n, so register j takes tiles 4 * kk + 2 * (j / 2)
// and + 1: logical key 4 * t + i of each 16 is real key 8 * (i / 2) + 2 * t +
// i % 2, and the runtime orders V's keys so (fp8_layout.cuh). P is e4m3.
__device__ __forceinline__ u32 pack_e4m3(float a, float b, float c, float d) {
  unsigned short lo, hi;
  // cvt puts its first source in the upper byte.
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;\n" : "=h"(lo) : "f"(b), "f"(a));
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;\n" : "=h"(hi) : "f"(d), "f"(c));
  return (u32)lo | ((u32)hi << 16);
}
template <int NT>
__device__ __forceinline__ void pack_a_fp8(u32 (&a)[4], const float (&s)[NT][4], int kk) {
#pragma unroll
  for (int j = 0; j < 4; ++j) {
    const int n = 4 * kk + 2 * (j / 2), r = 2 * (j % 2);
    a[j] = pack_e4m3(s[n][r], s[n][r + 1], s[n + 1][r], s[n + 1][r + 1]);
  }
}

// The factors of one (batch, head): factor i at p[i * stride]; p null: 1.
// Resolved once, so that a tile's lookups cost an index each.
struct FactorRow {
  const float* p;
  long long stride;
  __device__ __forceinline__ float operator()(long long i) const {
    return p == nullptr ? 1.0f : p[i * stride];
  }
};
__device__ __forceinline__ FactorRow factor_row(const Descale& d, int b, int h) {
  return {d.data == nullptr ? nullptr : d.data + b * d.stride[0] + h * d.stride[1], d.stride[2]};
}

// The factors of a key tile's blocks of kSageKKeys keys: quant sage's K
// factors, or fp8 K's descales (kFp8KBlockKeys is the same block). Blocks
// past the keys, whose scores are masked, take 1.
template <int BN>
struct TileFactors {
  // At least 1: key tiles narrower than a block are never 8-bit ones.
  static constexpr int kBlocks = (BN + kSageKKeys - 1) / kSageKKeys;
  float k[kBlocks];
};
template <int BN>
__device__ __forceinline__ TileFactors<BN> tile_factors(const FactorRow& k_row, int k_blocks,
                                                        int n0) {
  static_assert(kFp8KBlockKeys == kSageKKeys, "one block size");
  TileFactors<BN> out;
#pragma unroll
  for (int blk = 0; blk < TileFactors<BN>::kBlocks; ++blk) {
    const int kb = n0 / kSageKKeys + blk;
    out.k[blk] = kb < k_blocks ? k_row(kb) : 1.0f;
  }
  return out;
}

// quant sage: the int32 products c of the codes as floats x = c + 1.5 * 2^23.
// An int below 2^22 in magnitude (127^2 times a head dim up to 256 is) plus
// that is a float whose low bits are the int's, so one integer add converts
// it, where the conversion unit gives 16 results a clock an SM.
constexpr float kSageOffset = 12582912.0f;
__device__ __forceinline__ float sage_code_product(int c) { return __int_as_float(c + 0x4B400000); }

// The affine maps that take the products x of each row and key block of a
// tile to scores times `unit`: score = x * f[row][block] + add[row][block],
// f the row's Q factor times the block's K factor. quant sage's x are the
// floats above, whose offset folds into `add` (off by under a unit of the
// codes' product, which their rounding exceeds a hundredfold) with each
// row's dot product with the K mean; fp8 inputs' x are scores already.
template <int Blocks>
struct TileAffine {
  float f[2][Blocks];
  float add[2][Blocks];
};
template <int BN>
__device__ __forceinline__ TileAffine<TileFactors<BN>::kBlocks> tile_affine(
    const TileFactors<BN>& factors, const float (&q_factor)[2], const float (&row_mean)[2],
    float offset, float unit) {
  TileAffine<TileFactors<BN>::kBlocks> out;
#pragma unroll
  for (int blk = 0; blk < TileFactors<BN>::kBlocks; ++blk) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float f = q_factor[r] * factors.k[blk];
      out.f[r][blk] = f * unit;
      out.add[r][blk] = (row_mean[r] - offset * f) * unit;
    }
  }
  return out;
}

// Scores (times `unit`) into `s` from quant sage's code products in `c`
// (kSage; CT = NT) or from fp8 products in `s`; with kAffine false, quant
// sage's floats only, for online_softmax to map.
template <bool kSage, bool kAffine, int NT, int CT, int Blocks>
__device__ __forceinline__ void tile_scores(float (&s)[NT][4], const int (&c)[CT][4],
                                            const TileAffine<Blocks>& affine) {
  static_assert(!kSage || CT == NT, "a code product per score");
  constexpr int kTilesPerBlock = NT / Blocks;
#pragma unroll
  for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float x = kSage ? sage_code_product(c[nt][j]) : s[nt][j];
      const int blk = nt / kTilesPerBlock;
      s[nt][j] = kAffine ? fmaf(x, affine.f[j / 2][blk], affine.add[j / 2][blk]) : x;
    }
  }
}

// 16 bytes to global memory in one store (a uint4 held in registers is
// otherwise stored a member at a time).
__device__ __forceinline__ void store_16(void* p, const uint4& v) {
  asm volatile("st.global.v4.b32 [%0], {%1, %2, %3, %4};\n" ::"l"(p), "r"(v.x), "r"(v.y), "r"(v.z),
               "r"(v.w)
               : "memory");
}

// Byte offset of element (row, col) of a swizzled tile of `rows` rows.
__device__ __forceinline__ int swizzled(int rows, int row, int col) {
  return (col / 64) * rows * 128 + row * 128 + ((((col % 64) / 8) ^ (row % 8)) * 16) +
         (col % 8) * 2;
}

template <class V, class C>
__device__ __forceinline__ void forward(const FwdArgs& a, const FwdMaps& maps,
                                        const typename V::Params& p) {
  using S = Shape<C>;
  constexpr bool kBf16 = C::kBf16;
  constexpr bool kPersistent = C::kPersistent;
  constexpr int BM = S::kBM, BN = S::kBN, kStages = S::kStages;
  constexpr int NT = BN / 8, DT = S::kDV / 8;

  extern __shared__ unsigned char smem_raw[];
  unsigned char* smem = smem_raw + ((1024 - (smem_addr(smem_raw) & 1023)) & 1023);
  unsigned char* sQ = smem;
  unsigned char* sK = sQ + S::kQBuffers * S::kQBytes;
  unsigned char* sV = sK + kStages * S::kKBytes;
  u64* bar_q = reinterpret_cast<u64*>(sV + kStages * S::kVBytes);
  u64* q_empty = bar_q + S::kQBuffers;  // persistent only
  u64* full_k = bar_q + S::kQBarriers;
  u64* full_v = full_k + kStages;
  u64* empty_k = full_v + kStages;
  u64* empty_v = empty_k + kStages;
  int* tile_of = reinterpret_cast<int*>(empty_v + kStages);
  int* item_of = tile_of + kStages;  // persistent only

  const int warpgroup = threadIdx.x / 128;
  const int warp = threadIdx.x / 32 % 4, lane = threadIdx.x % 32;
  // A persistent grid has no more CTAs than items, and items only of heads that are.
  const CtaTile first_tile =
      kPersistent ? item_tile<BM, C::kHeadGroup>(a, blockIdx.x) : cta_tile<BM, C::kHeadGroup>(a);
  if (first_tile.h >= a.heads) return;

  // Q of the item in flight as the `seq`th of this CTA, by TMA.
  auto load_q = [&](int seq, const CtaTile& tile) {
    const int buf = kPersistent ? seq & 1 : 0;
    mbar_expect_tx(&bar_q[buf], BM * S::kDBytes);
    for (int c = 0; c < S::kDBytes / 128; ++c) {
      tma_load(sQ + buf * S::kQBytes + c * BM * 128, maps.q, &bar_q[buf], c * S::kBoxCols, tile.m0,
               tile.h, tile.b);
    }
  };

  // A CTA of a few tiles spends much of its time before its first product
  // (H100, session 26: a third of a sliding window's CTA). So warp 0 asks
  // for Q with the barriers' initialisation, and warp 1, which loads K and V,
  // does not wait for the consumers; its first walk step takes 64 tiles.
  if (threadIdx.x == 0) {
    tma_prefetch_map(maps.q);
    tma_prefetch_map(maps.k);
    tma_prefetch_map(maps.v);
    for (int i = 0; i < S::kQBuffers; ++i) {
      mbar_init(&bar_q[i], 1);
      if (kPersistent) mbar_init(&q_empty[i], 4 * C::kConsumers);  // lane 0 of every consumer warp
    }
    for (int s = 0; s < kStages; ++s) {
      mbar_init(&full_k[s], 1);
      mbar_init(&full_v[s], 1);
      mbar_init(&empty_k[s], 4 * C::kConsumers);
      mbar_init(&empty_v[s], 4 * C::kConsumers);
    }
    mbar_init_fence();
    load_q(0, first_tile);
  }

  // The consumers (barrier 0) and the loader (barrier 7) wait for the
  // barriers' initialisation; the rest of the producer only arrives.
  if (warpgroup == 0) {
    if (warp == 0) asm volatile("bar.arrive 7, 64;\n" ::: "memory");
    asm volatile("bar.arrive 0, %0;\n" ::"r"(blockDim.x) : "memory");
    if constexpr (C::kProducerRegs > 0) regs_dec<C::kProducerRegs>();
    if (warp != 1) return;
    // The runtime starts this kernel under its classifier's (grid_dependency.cuh).
    if constexpr (V::kClassTable) wait_for_prior_grids();
    int stage = 0;
    u32 phase = 0;
    // A stage's token, and its tile's K and V where `tile` is set.
    auto post = [&](int token, unsigned item, bool tile, int n, int b, int hkv) {
      mbar_wait(&empty_k[stage], phase ^ 1);
      if (lane == 0) {
        tile_of[stage] = token;
        if (kPersistent) item_of[stage] = (int)item;
        if (tile) {
          mbar_expect_tx(&full_k[stage], S::kKBytes);
          for (int c = 0; c < S::kDBytes / 128; ++c) {
            tma_load(sK + stage * S::kKBytes + c * BN * 128, maps.k, &full_k[stage],
                     c * S::kBoxCols, n * BN, hkv, b);
          }
        } else {
          mbar_arrive(&full_k[stage]);
        }
      }
      if (token != kNoMoreTiles) {
        mbar_wait(&empty_v[stage], phase ^ 1);
        if (lane == 0) {
          if (!tile) {
            mbar_arrive(&full_v[stage]);
          } else if constexpr (C::kV8) {
            // V transposed, [batch, kv_heads, head_dim_v, keys]: blocks of 128 keys.
            mbar_expect_tx(&full_v[stage], S::kVBytes);
            for (int c = 0; c < BN / 128; ++c) {
              tma_load(sV + stage * S::kVBytes + c * S::kDV * 128, maps.v, &full_v[stage],
                       n * BN + c * 128, 0, hkv, b);
            }
          } else {
            mbar_expect_tx(&full_v[stage], S::kVBytes);
            for (int c = 0; c < S::kDV / 64; ++c) {
              tma_load(sV + stage * S::kVBytes + c * BN * 128, maps.v, &full_v[stage], c * 64,
                       n * BN, hkv, b);
            }
          }
        }
      }
      __syncwarp();
      if (++stage == kStages) {
        stage = 0;
        phase ^= 1;
      }
    };
    const unsigned items = kPersistent ? work_items<BM>(a) : 1;
    unsigned item = blockIdx.x;
    CtaTile tile = first_tile;
    for (int seq = 0;; ++seq) {
      // Q's buffer is free once the consumers have read the item two back out of it.
      if (kPersistent && seq > 0 && lane == 0) {
        mbar_wait(&q_empty[seq & 1], ((seq >> 1) & 1) ^ 1);
        load_q(seq, tile);
      }
      const long long q_last = (tile.m0 + BM < a.q_len ? tile.m0 + BM : a.q_len) - 1;
      TileWalk<V, BM, BN> walk(p, a, fwd_index(a, tile.b, tile.h, tile.hkv), tile.m0, q_last);
      int n = walk.first();
      if (seq == 0) asm volatile("bar.sync 7, 64;\n" ::: "memory");
      // The next item's number, asked for now so that its latency runs under the posts.
      unsigned next = 0;
      if constexpr (kPersistent) {
        if (lane == 0) next = gridDim.x + atomicAdd(a.work_counter, 1u);
        next = __shfl_sync(0xffffffffu, next, 0);
      }
      if (n >= walk.n_tiles) post(kEmptyItem, item, false, 0, 0, 0);
      for (bool first = true; n < walk.n_tiles; n = walk.next(n + 1), first = false) {
        post(tile_token(n, walk.found, first), item, true, n, tile.b, tile.hkv);
      }
      if (!kPersistent || next >= items) break;
      item = next;
      tile = item_tile<BM, C::kHeadGroup>(a, item);
    }
    // The end, announced through the next stage's barrier (no bytes to wait for).
    post(kNoMoreTiles, 0, false, 0, 0, 0);
    return;
  }
  asm volatile("bar.sync 0, %0;\n" ::"r"(blockDim.x) : "memory");
  // The consumers read what the kernels launched before this one wrote (quant
  // sage's factors); under a programmatic launch only this wait promises it is
  // visible. They have nothing to do before their first K tile anyway.
  if constexpr (V::kClassTable) wait_for_prior_grids();

  if constexpr (C::kConsumerRegs > 0) regs_inc<C::kConsumerRegs>();
  const int consumer = warpgroup - 1;
  const int g = lane / 4, t = lane % 4;
  const int warp_row0 = consumer * 64 + warp * 16;  // this warp's 16 rows within the CTA
  const Turns<C::kConsumers> turns{consumer};
  turns.first();

  constexpr bool kFp8Inputs = C::kQk8 && !C::kQuant;
  constexpr bool kTileFactors = C::kQuant || (kFp8Inputs && C::kFp8BlockScales);
  // With the identity score and a positive scale, the factors of each row
  // and key block map products to log2 logits in the exponent's FMA, as
  // online_softmax does the scale; any other score needs the scores
  // themselves first.
  constexpr bool kFoldFactors = kTileFactors && V::kIdentityScore && C::kPositiveScale;
  constexpr int kPSteps = BN / C::Mma::kK;  // k steps of PV

  // The stage whose token is next, and that token.
  int stage = 0;
  u32 phase = 0;
  mbar_wait(&full_k[0], 0);
  int token = tile_of[0];
  for (int seq = 0; token != kNoMoreTiles; ++seq) {
    // The item through a shuffle from lane 0, which ptxas sees is the same in
    // every lane: a score's read of a tensor by head (ALiBi's slope[h]) then
    // stays out of the tile loop.
    const CtaTile tile = kPersistent ? item_tile<BM, C::kHeadGroup>(
                                           a, __shfl_sync(0xffffffffu, (unsigned)item_of[stage], 0))
                                     : first_tile;
    const int b = tile.b, h = tile.h, hkv = tile.hkv, m0 = tile.m0;
    const long long q_warp = m0 + warp_row0;
    const int q_buf = kPersistent ? seq & 1 : 0;
    unsigned char* sQi = sQ + q_buf * S::kQBytes;
    // Per-row Q factors and per-block K factors (TileFactors) scale the scores
    // of quant sage (its quantisation factors, Q's one per warp, with each
    // row's dot product with the K mean) and of fp8 inputs with per-block
    // descales (C::kFp8BlockScales, an entry of its own). fp8 descales per
    // head fold into the scale once instead, as FlashAttention-3's do: the
    // per-tile path cost fp8 a tenth of its speed (H100, session 22).
    float scale = a.scale, scale_log2 = a.scale_log2;
    float q_factor[2] = {1.0f, 1.0f}, row_mean[2] = {0.0f, 0.0f};
    // K's factors of this (batch, KV head), a block of kSageKKeys keys each.
    const int k_blocks = (a.kv_len + kSageKKeys - 1) / kSageKKeys;
    FactorRow k_row = factor_row(a.k_descale, b, hkv);
    if constexpr (kFp8Inputs) {
      const FactorRow q_row = factor_row(a.q_descale, b, h);
      if constexpr (!kTileFactors) {
        const float qk = q_row(0) * k_row(0);
        scale *= qk;
        scale_log2 *= qk;
      } else {
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          const long long row = q_warp + g + 8 * r;
          if (row < a.q_len) q_factor[r] = q_row(row);
        }
      }
    }
    if constexpr (C::kQuant) {
      static_assert(kSageQRows == 16, "a warp's rows");
      k_row = {a.sage.k + ((long long)b * a.kv_heads + hkv) * k_blocks, 1};
      const long long plane = (long long)b * a.heads + h;
      const int q_blocks = (a.q_len + kSageQRows - 1) / kSageQRows;
      const int block = (int)(q_warp / kSageQRows);
      if (block < q_blocks) q_factor[0] = q_factor[1] = a.sage.q[plane * q_blocks + block];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        const long long row = q_warp + g + 8 * r;
        if (a.sage.mean != nullptr && row < a.q_len) {
          row_mean[r] = a.sage.mean[plane * a.q_len + row];
        }
      }
    }
    const float kFactor = V::kIdentityScore && C::kPositiveScale ? scale_log2 : 1.0f;
    Index ix = fwd_index(a, b, h, hkv);

    float row_max[2] = {neg_inf(), neg_inf()}, row_sum[2] = {0.0f, 0.0f};
    float acc_o[DT][4];
#pragma unroll
    for (int dt = 0; dt < DT; ++dt) {
#pragma unroll
      for (int i = 0; i < 4; ++i) acc_o[dt][i] = 0.0f;
    }
    float acc_s[NT][4];
    // quant sage's int8 codes' products accumulate int32 here; their scores go to acc_s.
    int acc_i[C::kQuant ? NT : 1][4];
    u32 pa[kPSteps][4];
    float rescale[2];

    // The warpgroup's Q rows, through a value that ptxas sees is the same
    // in every lane (a shuffle from lane 0), so that the descriptors of the
    // QK^T steps stay in uniform registers instead of being rebuilt, in
    // vector registers, every tile.
    const u64 q_desc =
        smem_desc(sQ + __shfl_sync(0xffffffffu, q_buf * S::kQBytes + consumer * 64 * 128, 0), 0);
    // S = Q K^T: k steps of 32 bytes, four to a 128-byte swizzle block.
    auto issue_qk = [&](int stage) {
      const u64 k_desc = smem_desc(sK + stage * S::kKBytes, 0);
#pragma unroll
      for (int ks = 0; ks < S::kDBytes / 32; ++ks) {
        const u64 a_desc = q_desc + (((ks / 4) * BM * 128 + (ks % 4) * 32) >> 4);
        const u64 b_desc = k_desc + (((ks / 4) * BN * 128 + (ks % 4) * 32) >> 4);
        if constexpr (C::kQuant) {
          C::Mma::qk(acc_i, a_desc, b_desc, ks > 0);
        } else {
          C::Mma::qk(acc_s, a_desc, b_desc, ks > 0);
        }
      }
      wgmma_commit();
    };
    // O += P V. 16-bit V is N-major: k steps of 16 keys, 16 rows of 128 bytes
    // each. fp8 V is transposed, K-major: k steps of 32 keys (bytes), four to
    // a 128-byte swizzle block of DV rows.
    auto issue_pv = [&](int stage) {
      if constexpr (C::kV8) {
        const u64 v_desc = smem_desc(sV + stage * S::kVBytes, 0);
#pragma unroll
        for (int kk = 0; kk < kPSteps; ++kk) {
          C::Mma::pv(acc_o, pa[kk], v_desc + (((kk / 4) * S::kDV * 128 + (kk % 4) * 32) >> 4));
        }
      } else {
        const u64 v_desc = smem_desc(sV + stage * S::kVBytes, BN * 128);
#pragma unroll
        for (int kk = 0; kk < kPSteps; ++kk) {
          C::Mma::pv(acc_o, pa[kk], v_desc + ((kk * 16 * 128) >> 4));
        }
      }
      wgmma_commit();
    };
    auto fence_scores = [&] {
      if constexpr (C::kQuant) {
        fence_operands(acc_i);
      } else {
        fence_operands(acc_s);
      }
    };
    // The next tile's K factors, loaded while its products run.
    TileFactors<BN> factors;
    auto load_factors = [&](int token) {
      if constexpr (kTileFactors) {
        if (token >= 0) {
          factors = tile_factors<BN>(k_row, k_blocks, token_key0<BN>(token));
        }
      }
    };
    // The next masked tile's mask parts (its tensor reads: document ids, say),
    // loaded while its products run, as its K factors are. The test of a
    // masked tile is softmax's.
    MaskParts<V, NT> parts;
    auto load_parts = [&](int token) {
      if constexpr (V::kMaskParts) {
        if (token >= 0 &&
            (token_class(token) == kPartial || token_key0<BN>(token) + BN > a.kv_len)) {
          const int n0 = token_key0<BN>(token);
          parts = mask_parts<V, NT>(p, ix, HeadRows{q_warp + g}, n0);
        }
      }
    };
    // Score, mask and online softmax of the tile in acc_s.
    auto softmax = [&](int token) {
      const int n0 = token_key0<BN>(token);
      [[maybe_unused]] TileAffine<TileFactors<BN>::kBlocks> affine;
      if constexpr (kTileFactors) {
        affine = tile_affine(factors, q_factor, row_mean, C::kQuant ? kSageOffset : 0.0f,
                             kFoldFactors ? scale_log2 : 1.0f);
        if constexpr (C::kQuant || !kFoldFactors) {
          tile_scores<C::kQuant, !kFoldFactors>(acc_s, acc_i, affine);
        }
      }
      // Nothing for the identity score with a positive scale, folded factors or not.
      apply_score<V, C::kPositiveScale, true>(acc_s, p, ix, scale, scale_log2, HeadRows{q_warp + g},
                                              n0, t);
      if (token_class(token) == kPartial || n0 + BN > a.kv_len) {
        if constexpr (V::kMaskParts) {
          apply_mask_parts<V>(acc_s, p, ix, HeadRows{q_warp + g}, n0, t, parts);
        } else {
          apply_mask<V>(acc_s, p, ix, HeadRows{q_warp + g}, n0, t);
        }
      }
      if constexpr (kFoldFactors) {
        online_softmax<NT, C::kExpFmaEighths>(acc_s, row_max, row_sum, affine.f, affine.add,
                                              rescale);
      } else {
        online_softmax<NT, C::kExpFmaEighths>(acc_s, row_max, row_sum, kFactor, rescale);
      }
    };
    // Lane 0 of each warp frees K or V of a stage for the producer.
    auto release = [&](u64* empty, int stage) {
      __syncwarp();
      if (lane == 0) mbar_arrive(&empty[stage]);
    };
    auto pack_p = [&] {
#pragma unroll
      for (int kk = 0; kk < kPSteps; ++kk) {
        if constexpr (C::kV8) {
          pack_a_fp8(pa[kk], acc_s, kk);
        } else {
          pack_a<kBf16>(pa[kk], acc_s, kk);
        }
      }
    };

    // Q may still be arriving, into a buffer that the epilogue writes even
    // where the item has no tiles.
    mbar_wait(&bar_q[q_buf], kPersistent ? (seq >> 1) & 1 : 0);
    if (token == kEmptyItem) {
      release(empty_k, stage);
      release(empty_v, stage);
      if (++stage == kStages) {
        stage = 0;
        phase ^= 1;
      }
      mbar_wait(&full_k[stage], phase);
    } else {
      // Tile n+1's QK^T and tile n's PV are issued together, so the loop runs
      // over pairs and the last PV follows it. No branch may come between a
      // wgmma fence and its products (ptxas serialises wgmma when one does).
      load_factors(token);
      load_parts(token);
      turns.wait();
      fence_scores();
      wgmma_fence();
      issue_qk(stage);
      turns.pass();
      wgmma_wait<0>();
      fence_scores();
      release(empty_k, stage);
      softmax(token);
      pack_p();
      int next_stage = stage + 1 == kStages ? 0 : stage + 1;
      u32 next_phase = stage + 1 == kStages ? phase ^ 1 : phase;
      mbar_wait(&full_k[next_stage], next_phase);
      int next_token = tile_of[next_stage];
      load_factors(next_token);
      load_parts(next_token);
      mbar_wait(&full_v[stage], phase);
      while (token_continues(next_token)) {
        turns.wait();
        fence_scores();
        fence_operands(acc_o);
        wgmma_fence();
        issue_qk(next_stage);
        issue_pv(stage);
        turns.pass();
        wgmma_wait<1>();
        fence_scores();
        softmax(next_token);
        mbar_wait(&full_v[next_stage], next_phase);
        // ptxas hoists the wait for PV above the softmax's exponentials, which
        // ends their overlap with PV (with exp_fma=2 all but 10 of a tile's 64
        // came after it; the wait for V, a loop, did not stop it). It keeps the
        // wait after the arrive that frees K, so that arrive depends on the
        // whole softmax: it is predicated on the row sums, which are never
        // negative (sums of exponentials rescaled by factors in [0, 1]; NaN
        // passes), so it always happens.
        {
          const float sums = row_sum[0] + row_sum[1];
          __syncwarp();
          if (lane == 0 && !(sums < 0.0f)) mbar_arrive(&empty_k[next_stage]);
        }
        wgmma_wait<0>();
        fence_operands(acc_o);
        release(empty_v, stage);
        pack_p();
        // Random scores at 16384 keys skip it about 2 tiles in 3.
        rescale_moved_rows(acc_o, rescale);
        stage = next_stage;
        phase = next_phase;
        if (++next_stage == kStages) {
          next_stage = 0;
          next_phase ^= 1;
        }
        mbar_wait(&full_k[next_stage], next_phase);
        next_token = tile_of[next_stage];
        load_factors(next_token);
        load_parts(next_token);
      }
      turns.wait();
      fence_operands(acc_o);
      wgmma_fence();
      issue_pv(stage);
      turns.pass();
      wgmma_wait<0>();
      fence_operands(acc_o);
      release(empty_v, stage);
      stage = next_stage;
      phase = next_phase;
    }

    // Epilogue: normalise, stage O in this warpgroup's own rows of the Q tile
    // (same swizzle, so the quads' stores spread over the banks), then write
    // whole 16-byte pieces of rows.
    u16* o_ptr = static_cast<u16*>(a.o) + b * a.o_stride[0] + h * a.o_stride[1];
    // V's fp8 factors: per channel in the block kernel, else one per head.
    const FactorRow v_row = factor_row(a.v_descale, b, hkv);
    const float v_head = kFp8Inputs && !C::kFp8BlockScales ? v_row(0) : 1.0f;
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const float sum = quad_sum(row_sum[r]);
      // An approximate quotient: exact division's slow path sits in the epilogue of every CTA.
      const float inv = sum > 0.0f ? __fdividef(v_head, sum) : 0.0f;
      const int row = warp_row0 + g + r * 8;
#pragma unroll
      for (int dt = 0; dt < DT; ++dt) {
        float lo = acc_o[dt][2 * r] * inv, hi = acc_o[dt][2 * r + 1] * inv;
        // V's factors, per channel (or per head: fp8 descales of stride 0).
        if constexpr (C::kQuant && C::kV8) {
          const float* v_max =
              a.sage.v_max + ((long long)b * a.kv_heads + hkv) * S::kDV + dt * 8 + 2 * t;
          lo *= sage_e4m3_factor(v_max[0]);
          hi *= sage_e4m3_factor(v_max[1]);
        } else if constexpr (kFp8Inputs && C::kFp8BlockScales) {
          lo *= v_row(dt * 8 + 2 * t);
          hi *= v_row(dt * 8 + 2 * t + 1);
        }
        const u32 packed = C::kOutBf16 ? pack<true>(lo, hi) : pack<false>(lo, hi);
        *reinterpret_cast<u32*>(sQi + swizzled(BM, row, dt * 8 + 2 * t)) = packed;
      }
      if (a.lse != nullptr && t == 0 && m0 + row < a.q_len) {
        a.lse[b * a.lse_stride[0] + h * a.lse_stride[1] + m0 + row] = row_lse(row_max[r], sum);
      }
    }
    warpgroup_sync(1 + consumer);
    constexpr int kChunksPerRow = S::kDV / 8;
    constexpr int kRounds = 64 * kChunksPerRow / 128;
    static_assert(64 * kChunksPerRow % 128 == 0, "whole rounds of the warpgroup");
    // Every read first, then every store: one round trip to shared memory, not one a round.
    const unsigned me = threadIdx.x % 128;
    uint4 chunk[kRounds];
#pragma unroll
    for (int i = 0; i < kRounds; ++i) {
      const unsigned c = me + i * 128;
      chunk[i] = *reinterpret_cast<const uint4*>(
          sQi +
          swizzled(BM, consumer * 64 + (int)(c / kChunksPerRow), (int)(c % kChunksPerRow) * 8));
    }
    if constexpr (kPersistent) {
      // The buffer takes the Q of the item after next, by TMA.
      fence_async_shared();
      release(q_empty, q_buf);
    }
#pragma unroll
    for (int i = 0; i < kRounds; ++i) {
      const unsigned c = me + i * 128;
      const long long row = m0 + consumer * 64 + (int)(c / kChunksPerRow);
      if (row < a.q_len) {
        store_16(o_ptr + row * a.o_stride[2] + (c % kChunksPerRow) * 8, chunk[i]);
      }
    }
    if constexpr (!kPersistent) break;
    token = tile_of[stage];
  }
  turns.finish();
}

}  // namespace sm90
}  // namespace aj
