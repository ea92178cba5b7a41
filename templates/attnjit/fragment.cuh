// What both forward families share at the level of one warp's 16 score rows
// in the tensor-core accumulator layout (mma.sync m16n8 and wgmma m64nN both
// give each lane rows g and g+8, columns 2t and 2t+1 of every n8 tile):
// the variant's score and mask, and the online-softmax update.
#pragma once

#include "attnjit/prelude.cuh"

namespace aj {

using u16 = unsigned short;
using u32 = unsigned int;
using u64 = unsigned long long;

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

__device__ __forceinline__ float neg_inf() { return __int_as_float(0xff800000u); }

__device__ __forceinline__ u32 smem_addr(const void* p) { return (u32)__cvta_generic_to_shared(p); }

// Two floats to one register of two 16-bit values, `lo` in the low half.
template <bool Bf16>
__device__ __forceinline__ u32 pack(float lo, float hi) {
  u32 out;
  if constexpr (Bf16) {
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;\n" : "=r"(out) : "f"(hi), "f"(lo));
  } else {
    asm("cvt.rn.f16x2.f32 %0, %1, %2;\n" : "=r"(out) : "f"(hi), "f"(lo));
  }
  return out;
}

__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// 2^x for x <= 0 on the FMA and integer pipes, not the multi-function unit
// (16 results a clock an SM, which fp8 products outrun): 2^round(x) goes
// into the exponent bits of a cubic in the fraction, fitted to a relative
// error of 7.5e-5 on [-0.5, 0.5]. Adding 1.5 * 2^23 rounds x to an integer
// in the low mantissa bits, which a shift by 23 moves into the exponent.
// Below -126 (and -inf): 0.
__device__ __forceinline__ float exp2_fma(float x) {
  constexpr float kRound = 12582912.0f;
  const float clamped = fmaxf(x, -126.0f);
  const float r = clamped + kRound;
  const float f = clamped - (r - kRound);
  const float p = fmaf(fmaf(fmaf(0.05517153f, f, 0.24261111f), f, 0.69326101f), f, 0.99992807f);
  const float y = __int_as_float(__float_as_int(p) + (__float_as_int(r) << 23));
  return x < -126.0f ? 0.0f : y;
}

// `value` of lane `lane` of the warp, for any trivially copyable T (a
// mask's parts); an empty T costs nothing.
template <class T>
__device__ __forceinline__ T shfl_value(const T& value, int lane) {
  if constexpr (__is_empty(T)) {
    return value;
  } else {
    constexpr int kWords = (int)((sizeof(T) + 3) / 4);
    u32 words[kWords] = {};
    memcpy(words, &value, sizeof(T));
#pragma unroll
    for (int i = 0; i < kWords; ++i) words[i] = __shfl_sync(0xffffffffu, words[i], lane);
    T out;
    memcpy(&out, words, sizeof(T));
    return out;
  }
}

// The lane's two rows of a warp's 16 (rows g and g + 8) in the prefill
// families: consecutive query rows of one head. `set` puts row r's indices in
// an Index; the decode family packs rows of several heads and has its own.
struct HeadRows {
  long long q;  // the query index of row g
  __device__ __forceinline__ void set(Index& ix, int r) const { ix.q = q + r * 8; }
};

// The scores of 16 rows x (NT * 8) keys: s[nt][i] is the lane's row i / 2,
// key k0 + 8 * nt + 2 * t + i % 2. In the log2 domain afterwards, except for
// the identity score with a positive scale, which stays raw: its scale is
// folded into one FFMA in the exponent (online_softmax's `factor`).
// StepKeys: the hooks see each key as the lane's first plus a compile-time
// step, so that what is linear in k is computed once per row
// (codegen/key_steps.hpp); without it the step is 0, which keeps the sm_80
// family's four rows a thread out of the registers those row values take
// (ALiBi at bm=128, bn=64 spilled). The score's reads that no row or key
// changes are made once for each of the lane's two rows (V::at_head), whose
// heads differ in the decode family.
template <class V, bool PositiveScale, bool StepKeys, int NT, class Rows>
__device__ __forceinline__ void apply_score(float (&s)[NT][4], const typename V::Params& p,
                                            Index& ix, float scale, float scale_log2,
                                            const Rows& rows, long long k0, int t) {
  if constexpr (!(V::kIdentityScore && PositiveScale)) {
    [[maybe_unused]] typename V::Params at_row[2] = {p, p};
    if constexpr (!V::kIdentityScore) {
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        rows.set(ix, r);
        at_row[r] = V::at_head(p, ix);
      }
    }
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        float& x = s[nt][i];
        if constexpr (V::kIdentityScore) {
          x *= scale_log2;
        } else {
          rows.set(ix, i / 2);
          const int step = nt * 8 + (i % 2);  // from the lane's first key, k0 + 2 t
          const int k_step = StepKeys ? step : 0;
          ix.k = k0 + 2 * t + step;
          if constexpr (V::kAdditiveScore) {
            x = fmaf(x, scale_log2, V::bias_log2(at_row[i / 2], ix, k_step));
          } else {
            x = V::score(at_row[i / 2], ix, x * scale, k_step) * kLog2e;
          }
        }
      }
    }
  }
}

// Word w of a tile's keep bits applied: element w * 32 + j becomes -inf
// where bit j is clear.
template <int NT>
__device__ __forceinline__ void clear_unkept(float (&s)[NT][4], int w, u32 keep_bits) {
#pragma unroll
  for (int j = 0; j < 32; ++j) {
    const int e = w * 32 + j;
    if (e < NT * 4 && ((keep_bits >> j) & 1u) == 0) s[e / 4][e % 4] = neg_inf();
  }
}

// The parts of a mask (V::kMaskParts, mask_parts.hpp) that one side alone
// gives: the lane's two rows', and those of keys k0 + 32 s + lane for each
// slot s, which the warp's lanes share (element e = nt * 4 + r * 2 + c is row
// r and key 8 nt + 2 t + c: slot nt / 4, lane 8 (nt % 4) + 2 t + c). Their
// loads are in flight together; the Hopper kernel issues them while the
// tile's products run.
template <class V, int NT, bool = V::kMaskParts>
struct MaskParts {
  typename V::RowPart rows[2];
  typename V::ColPart cols[(NT + 3) / 4];
};
template <class V, int NT>
struct MaskParts<V, NT, false> {};  // a mask that is not in parts

template <class V, int NT, class Rows>
__device__ __forceinline__ MaskParts<V, NT> mask_parts(const typename V::Params& p, Index& ix,
                                                       const Rows& rows, long long k0) {
  MaskParts<V, NT> parts;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    rows.set(ix, r);
    parts.rows[r] = V::row_part(p, ix);
  }
#pragma unroll
  for (int s = 0; s < (NT + 3) / 4; ++s) {
    ix.k = k0 + s * 32 + (int)(threadIdx.x % 32);
    parts.cols[s] = V::col_part(p, ix);
  }
  return parts;
}

// apply_mask of a mask in parts, from parts found beforehand.
template <class V, int NT, class Rows>
__device__ __forceinline__ void apply_mask_parts(float (&s)[NT][4], const typename V::Params& p,
                                                 Index& ix, const Rows& rows, long long k0, int t,
                                                 const MaskParts<V, NT>& parts) {
  constexpr int kElements = NT * 4;
  constexpr int kSlots = (NT + 3) / 4;
  if constexpr (V::kLightParts) {
    // What joins the parts is light (a comparison of ids, say): unrolled
    // per element like a light mask.
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        const typename V::ColPart col = shfl_value(parts.cols[nt / 4], (nt % 4) * 8 + 2 * t + c);
        ix.k = k0 + nt * 8 + 2 * t + c;
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          rows.set(ix, r);
          if (!((int)ix.k < (int)ix.kv_len && V::mask_of_parts(p, ix, parts.rows[r], col))) {
            s[nt][r * 2 + c] = neg_inf();
          }
        }
      }
    }
    return;
  }
#pragma unroll
  for (int w = 0; w < (kElements + 31) / 32; ++w) {
    u32 keep_bits = 0;
    // A word is 8 key groups, the keys of two slots. One key (group
    // 4 half + j / 2, c = j % 2) per step: one copy of mask_of_parts' code
    // per slot, as it may hold calls (64-bit divisions).
#pragma unroll
    for (int half = 0; half < 2 && 2 * w + half < kSlots; ++half) {
#pragma unroll 1
      for (int j = 0; j < 8 && w * 8 + half * 4 + j / 2 < NT; ++j) {
        const int group = half * 4 + j / 2;  // of the word's 8
        const typename V::ColPart col =
            shfl_value(parts.cols[2 * w + half], (j / 2) * 8 + 2 * t + j % 2);
        ix.k = k0 + (w * 8 + group) * 8 + 2 * t + j % 2;
#pragma unroll
        for (int r = 0; r < 2; ++r) {
          rows.set(ix, r);
          const bool kept =
              (int)ix.k < (int)ix.kv_len && V::mask_of_parts(p, ix, parts.rows[r], col);
          keep_bits |= (u32)kept << (group * 4 + r * 2 + j % 2);
        }
      }
    }
    clear_unkept(s, w, keep_bits);
  }
}

// Masked-out elements and keys at or past kv_len become -inf. A light mask
// (comparisons of indices) is evaluated unrolled, element by element, into
// words of 32 bits that are then applied: held as bits, not as 64 bools that
// ptxas kept a byte each. A heavy one (V::kCompactMask: tensor reads,
// divisions) is evaluated in a loop that is not unrolled, a word at a time:
// one copy of its code per word rather than one per element keeps it quick
// to compile and out of the registers the accumulators need. Its parts that
// depend on one side only (V::kMaskParts) are computed once per row and once
// per key; when what joins them is light (V::kLightParts), that join is
// unrolled per element like a light mask.
template <class V, int NT, class Rows>
__device__ __forceinline__ void apply_mask(float (&s)[NT][4], const typename V::Params& p,
                                           Index& ix, const Rows& rows, long long k0, int t) {
  constexpr int kElements = NT * 4;
  auto keep = [&](int e) {
    rows.set(ix, (e % 4) / 2);
    ix.k = k0 + (e / 4) * 8 + 2 * t + (e % 2);
    bool kept = (int)ix.k < (int)ix.kv_len;  // both below 2^30 (codegen/int_range.hpp)
    if constexpr (V::kHasMask) kept = kept & V::mask(p, ix);  // &: a branch per element costs more
    return kept;
  };
  if constexpr (!V::kCompactMask) {
#pragma unroll
    for (int w = 0; w < (kElements + 31) / 32; ++w) {
      u32 keep_bits = 0;
#pragma unroll
      for (int j = 0; j < 32 && w * 32 + j < kElements; ++j) {
        keep_bits |= (u32)keep(w * 32 + j) << j;
      }
      clear_unkept(s, w, keep_bits);
    }
  } else if constexpr (!V::kMaskParts) {
#pragma unroll
    for (int w = 0; w < (kElements + 31) / 32; ++w) {
      u32 keep_bits = 0;
#pragma unroll 1
      for (int j = 0; j < 32 && w * 32 + j < kElements; ++j) {
        keep_bits |= (u32)keep(w * 32 + j) << j;
      }
      clear_unkept(s, w, keep_bits);
    }
  } else {
    apply_mask_parts<V>(s, p, ix, rows, k0, t, mask_parts<V, NT>(p, ix, rows, k0));
  }
}

// One online-softmax step for the lane's two rows: new running max (a row
// spans the 4 lanes of a quad), scores to probabilities and running sums.
// `factor` turns a score into a log2 logit. Leaves in `rescale` what the
// output accumulator's rows must be multiplied by (rescale_rows), which a
// pipelined kernel does later, once the products still using them are done.
//
// FmaEighths of every 8 probabilities come from exp2_fma, the rest from the
// multi-function unit, so that both pipes share the exponentials.
// The keys may come in Blocks equal blocks, each row and block with its
// own affine map to the log2 domain, logit = x * factor[row][block] +
// offset[row][block] (the factors of 8-bit Q and K, folded into the
// exponent's FFMA); factors must be positive.
template <int NT, int FmaEighths, int Blocks>
__device__ __forceinline__ void online_softmax(float (&s)[NT][4], float (&row_max)[2],
                                               float (&row_sum)[2],
                                               const float (&factor)[2][Blocks],
                                               const float (&offset)[2][Blocks],
                                               float (&rescale)[2]) {
  constexpr int kTilesPerBlock = NT / Blocks;
  static_assert(NT % Blocks == 0, "whole blocks of 8-key tiles");
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    // Maxima start from the first element, not -inf: ptxas keeps a max
    // with -inf (it is not x for a NaN x), and a row of NaN ends the same.
    float tile_max;
#pragma unroll
    for (int blk = 0; blk < Blocks; ++blk) {
      const int nt0 = blk * kTilesPerBlock;
      float block_max = fmaxf(s[nt0][2 * r], s[nt0][2 * r + 1]);
#pragma unroll
      for (int nt = nt0 + 1; nt < nt0 + kTilesPerBlock; ++nt) {
        block_max = fmaxf(block_max, fmaxf(s[nt][2 * r], s[nt][2 * r + 1]));
      }
      const float mapped = fmaf(block_max, factor[r][blk], offset[r][blk]);
      tile_max = blk == 0 ? mapped : fmaxf(tile_max, mapped);
    }
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
    const float old_max = row_max[r];
    const float new_max = fmaxf(old_max, tile_max);
    row_max[r] = new_max;
    // A row with nothing unmasked yet keeps base 0, so -inf - -inf never appears.
    const float base = new_max == neg_inf() ? 0.0f : new_max;
    rescale[r] = old_max == neg_inf() ? 1.0f : exp2_approx(old_max - base);
    float sum = 0.0f;
#pragma unroll
    for (int nt = 0; nt < NT; ++nt) {
      const float shift = offset[r][nt / kTilesPerBlock] - base;
#pragma unroll
      for (int c = 0; c < 2; ++c) {
        float& x = s[nt][2 * r + c];
        const float logit = fmaf(x, factor[r][nt / kTilesPerBlock], shift);
        x = (nt * 2 + c) % 8 < FmaEighths ? exp2_fma(logit) : exp2_approx(logit);
        sum += x;
      }
    }
    row_sum[r] = row_sum[r] * rescale[r] + sum;
  }
}

// One affine map for all keys: logit = x * factor.
template <int NT, int FmaEighths = 0>
__device__ __forceinline__ void online_softmax(float (&s)[NT][4], float (&row_max)[2],
                                               float (&row_sum)[2], float factor,
                                               float (&rescale)[2]) {
  const float factors[2][1] = {{factor}, {factor}};
  const float offsets[2][1] = {{0.0f}, {0.0f}};
  online_softmax<NT, FmaEighths, 1>(s, row_max, row_sum, factors, offsets, rescale);
}

template <int DT>
__device__ __forceinline__ void rescale_rows(float (&o)[DT][4], const float (&rescale)[2]) {
#pragma unroll
  for (int dt = 0; dt < DT; ++dt) {
#pragma unroll
    for (int i = 0; i < 4; ++i) o[dt][i] *= rescale[i / 2];
  }
}

// rescale_rows where a row of the warp's moved: the maxima settle within the
// first tiles of a long row, and a rescale by exactly 1 would spend a
// multiply an accumulator a tile on nothing.
template <int DT>
__device__ __forceinline__ void rescale_moved_rows(float (&o)[DT][4], const float (&rescale)[2]) {
  if (__any_sync(0xffffffffu, rescale[0] != 1.0f || rescale[1] != 1.0f)) rescale_rows(o, rescale);
}

// Probabilities of keys 16kk..16kk+15 as the A operand of a k16 MMA step (the
// m16n8 accumulator layout is the A layout), packed to 16 bits.
template <bool Bf16, int NT>
__device__ __forceinline__ void pack_a(u32 (&a)[4], const float (&s)[NT][4], int kk) {
  a[0] = pack<Bf16>(s[2 * kk][0], s[2 * kk][1]);
  a[1] = pack<Bf16>(s[2 * kk][2], s[2 * kk][3]);
  a[2] = pack<Bf16>(s[2 * kk + 1][0], s[2 * kk + 1][1]);
  a[3] = pack<Bf16>(s[2 * kk + 1][2], s[2 * kk + 1][3]);
}

// The row sum over the quad; the natural-log LSE of a row, -inf when empty.
__device__ __forceinline__ float quad_sum(float x) {
  x += __shfl_xor_sync(0xffffffffu, x, 1);
  return x + __shfl_xor_sync(0xffffffffu, x, 2);
}
__device__ __forceinline__ float row_lse(float row_max, float sum) {
  return sum > 0.0f ? (row_max + log2f(sum)) * kLn2 : neg_inf();
}

}  // namespace aj
