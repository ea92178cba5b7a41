// The quantisation kernels of quant sage (SageAttention, Zhang et al.), which
// the runtime runs before the Hopper forward kernel reads 8-bit Q and K and
// fp8 V or the 16-bit one (fwd_sm90.cuh):
//   sage_stats    K's sums over a sample of its keys (for smoothing) and, for
//                 fp8 V, V's largest magnitude per channel, by atomics;
//   sage_quant_k  K less its mean, as codes with a factor per kSageKKeys keys;
//   sage_quant_q  Q as codes with a factor per kSageQRows rows, and each
//                 query's dot product with its K head's mean;
//                 both turn their rows first where asked (hadamard_row);
//   sage_v_layout for fp8 V, V as e4m3 with a factor per channel,
//                 transposed as fp8_layout.cuh lays it out.
// Q and K codes are int8 (|code| <= 127), V's e4m3 (|code| <= 448); a
// block's factor maps its largest magnitude to the largest code.
#pragma once

#include "attnjit/fp8_layout.cuh"
#include "attnjit/fwd_args.h"
#include "attnjit/prelude.cuh"

namespace aj {

// The factor that takes codes of a block whose largest magnitude is `amax`
// back to values; an all-zero block takes 1.
AJ_HD float sage_int8_factor(float amax) { return amax > 0.0f ? amax * (1.0f / 127.0f) : 1.0f; }
AJ_HD float sage_e4m3_factor(float amax) { return amax > 0.0f ? amax * (1.0f / 448.0f) : 1.0f; }

#ifdef __CUDACC_RTC__

constexpr int kSageStatKeys = 256;  // keys of a sage_stats CTA
constexpr int kSageThreads = 256;   // of every kernel here
constexpr int kSageQCtaRows = 64;   // query rows of a sage_quant_q CTA

template <bool kBf16>
__device__ __forceinline__ void unpack8(const uint4& piece, float (&x)[8]) {
  const unsigned words[4] = {piece.x, piece.y, piece.z, piece.w};
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const auto lo = (unsigned short)(words[i] & 0xffff), hi = (unsigned short)(words[i] >> 16);
    x[2 * i] = kBf16 ? bf16_bits_to_float(lo) : half_bits_to_float(lo);
    x[2 * i + 1] = kBf16 ? bf16_bits_to_float(hi) : half_bits_to_float(hi);
  }
}

// Two e4m3 codes, `a` in the low byte.
__device__ __forceinline__ unsigned e4m3x2(float a, float b) {
  unsigned short out;
  asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;\n" : "=h"(out) : "f"(b), "f"(a));
  return out;
}

// Eight int8 (kInt8) or e4m3 codes of x * inv as two words, element 0 in
// the low byte.
template <bool kInt8>
__device__ __forceinline__ uint2 encode8(const float (&x)[8], float inv) {
  unsigned w[2] = {0, 0};
#pragma unroll
  for (int i = 0; i < 8; i += 2) {
    unsigned pair;
    if constexpr (kInt8) {
      const int lo = max(-127, min(127, __float2int_rn(x[i] * inv)));
      const int hi = max(-127, min(127, __float2int_rn(x[i + 1] * inv)));
      pair = (unsigned)(lo & 0xff) | ((unsigned)(hi & 0xff) << 8);
    } else {
      pair = e4m3x2(x[i] * inv, x[i + 1] * inv);
    }
    w[i / 4] |= pair << (16 * (i / 2 % 2));
  }
  return make_uint2(w[0], w[1]);
}

// Incoherent processing (as FlashAttention-3's fp8 path): every row of Q and
// K turns by one orthogonal matrix, the Walsh-Hadamard matrix over sqrt(D)
// times fixed random signs, which leaves Q K^T as it was and spreads an
// outlier channel's energy over all D, so that a block's largest magnitude,
// which sets the codes' step, is a few times its typical one rather than a
// hundred. Each of a row's kChunks threads (adjacent lanes, chunk = lane %
// kChunks) holds channels chunk * 8 .. + 7; D = 8 * kChunks.
AJ_HD bool hadamard_negates(int c) {
  unsigned h = (unsigned)c * 0x9E3779B1U;
  h ^= h >> 15;
  return ((h >> 7) & 1U) != 0;
}

template <int kChunks>
__device__ __forceinline__ void hadamard_row(float (&x)[8], int chunk) {
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    if (hadamard_negates(chunk * 8 + i)) x[i] = -x[i];
  }
#pragma unroll
  for (int h = 1; h < 8; h *= 2) {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      if ((i & h) == 0) {
        const float a = x[i], b = x[i + h];
        x[i] = a + b;
        x[i + h] = a - b;
      }
    }
  }
#pragma unroll
  for (int lanes = 1; lanes < kChunks; lanes *= 2) {
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const float other = __shfl_xor_sync(0xffffffff, x[i], lanes);
      x[i] = (chunk & lanes) != 0 ? other - x[i] : x[i] + other;
    }
  }
  const float norm = rsqrtf((float)(8 * kChunks));
#pragma unroll
  for (int i = 0; i < 8; ++i) x[i] *= norm;
}

// The largest over the CTA's kThreads threads of each of every thread's G
// values.
template <int kThreads, int G>
__device__ __forceinline__ void block_max(float (&x)[G]) {
  __shared__ float scratch[G][kThreads / 32];
#pragma unroll
  for (int g = 0; g < G; ++g) {
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) {
      x[g] = fmaxf(x[g], __shfl_xor_sync(0xffffffff, x[g], offset));
    }
    if (threadIdx.x % 32 == 0) scratch[g][threadIdx.x / 32] = x[g];
  }
  __syncthreads();
#pragma unroll
  for (int g = 0; g < G; ++g) {
    x[g] = scratch[g][0];
#pragma unroll
    for (int w = 1; w < kThreads / 32; ++w) x[g] = fmaxf(x[g], scratch[g][w]);
  }
}

// Column sums (kMax false) or largest magnitudes (kMax true) of rows
// [row0, row_end) of a kCols-wide 16-bit matrix, added into `out` by atomics.
template <bool kBf16, int kCols, bool kMax>
__device__ __forceinline__ void column_pass(const unsigned short* x, long long row_stride, int row0,
                                            int row_end, float* part, float* out) {
  constexpr int kChunks = kCols / 8, kLanes = kSageThreads / kChunks;
  const int chunk = threadIdx.x % kChunks, lane = threadIdx.x / kChunks;
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int row = row0 + lane; row < row_end; row += kLanes) {
    float v[8];
    unpack8<kBf16>(*reinterpret_cast<const uint4*>(x + row * row_stride + chunk * 8), v);
#pragma unroll
    for (int i = 0; i < 8; ++i) acc[i] = kMax ? fmaxf(acc[i], fabsf(v[i])) : acc[i] + v[i];
  }
#pragma unroll
  for (int i = 0; i < 8; ++i) part[lane * kCols + chunk * 8 + i] = acc[i];
  __syncthreads();
  for (int col = threadIdx.x; col < kCols; col += kSageThreads) {
    float total = 0.0f;
    for (int l = 0; l < kLanes; ++l) {
      const float p = part[l * kCols + col];
      total = kMax ? fmaxf(total, p) : total + p;
    }
    // Non-negative floats order as their bits do.
    if (kMax) {
      atomicMax(reinterpret_cast<int*>(out) + col, __float_as_int(total));
    } else {
      atomicAdd(out + col, total);
    }
  }
  __syncthreads();
}

// Grid (ceil(kv_len / kSageStatKeys), kv_heads, batch) with kVMax, which
// needs every key; else only the sampled CTAs, (ceil(kv_len /
// kSageStatKeys / k_sample_stride), kv_heads, batch).
template <bool kBf16, int kD, int kDV, bool kSmooth, bool kVMax>
__device__ __forceinline__ void sage_stats(const SageQuantArgs& a) {
  __shared__ float part[kSageThreads * 8];
  const int b = blockIdx.z, hkv = blockIdx.y;
  const int cta = kVMax ? blockIdx.x : blockIdx.x * a.k_sample_stride;
  const int row0 = cta * kSageStatKeys;
  const int row_end = min(row0 + kSageStatKeys, a.kv_len);
  const long long plane = (long long)b * a.kv_heads + hkv;
  // Smoothing is exact with any mean (the kernel adds back each query's dot
  // product with the one subtracted); a sample of spread-out keys finds a
  // channel's offset as well as all of them do, at a fraction of the reads.
  if (kSmooth && cta % a.k_sample_stride == 0) {
    column_pass<kBf16, kD, false>(a.k + b * a.k_stride[0] + hkv * a.k_stride[1], a.k_stride[2],
                                  row0, row_end, part, a.k_sum + plane * kD);
  }
  if constexpr (kVMax) {
    column_pass<kBf16, kDV, true>(a.v + b * a.v_stride[0] + hkv * a.v_stride[1], a.v_stride[2],
                                  row0, row_end, part, a.v_max + plane * kDV);
  }
}

// kRows rows of a kD-wide 16-bit matrix (less `mean`, per column, where
// given; turned by hadamard_row with kRotate) as codes, with a factor per
// kBlockRows rows into `factors`: `rows` of them are real, the rest neither
// count nor get written. Each thread keeps one column chunk of 8 of kPer
// rows, all loaded first. With kDot, `dot` gets each of the thread's rows'
// dot products with `dot_with`, summed over the row's threads.
template <bool kBf16, int kD, int kRows, int kBlockRows, int kThreads, bool kRotate, bool kDot>
__device__ __forceinline__ void quantise_rows(const unsigned short* x, long long row_stride,
                                              int rows, const float* mean, const float* dot_with,
                                              unsigned char* codes,
                                              float (&factors)[kRows / kBlockRows],
                                              float (&dot)[kRows * kD / 8 / kThreads]) {
  constexpr int kChunks = kD / 8, kLanes = kThreads / kChunks, kPer = kRows / kLanes;
  constexpr int kGroups = kRows / kBlockRows;
  static_assert(kThreads % kChunks == 0 && kRows % kLanes == 0 && kChunks <= 32, "tiling");
  // Row lane + j * kLanes is in block j / (kBlockRows / kLanes).
  static_assert(kBlockRows % kLanes == 0 && kRows % kBlockRows == 0, "blocks of whole j");
  const int chunk = threadIdx.x % kChunks, lane = threadIdx.x / kChunks;
  uint4 piece[kPer];
#pragma unroll
  for (int j = 0; j < kPer; ++j) {
    const int row = lane + j * kLanes;
    piece[j] = row < rows ? *reinterpret_cast<const uint4*>(x + row * row_stride + chunk * 8)
                          : make_uint4(0, 0, 0, 0);
  }
  float m[8], w[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    m[i] = mean != nullptr ? mean[chunk * 8 + i] : 0.0f;
    w[i] = kDot ? dot_with[chunk * 8 + i] : 0.0f;
  }
  float v[kPer][8];
#pragma unroll
  for (int g = 0; g < kGroups; ++g) factors[g] = 0.0f;
#pragma unroll
  for (int j = 0; j < kPer; ++j) {
    const bool real = lane + j * kLanes < rows;
    unpack8<kBf16>(piece[j], v[j]);
    dot[j] = 0.0f;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      if constexpr (kDot) dot[j] += v[j][i] * w[i];
      // Rows past the end stay zero, so they cannot move a block's largest magnitude.
      v[j][i] = real ? v[j][i] - m[i] : 0.0f;
    }
    if constexpr (kDot) {
      // The row's kChunks threads are adjacent lanes of one warp.
#pragma unroll
      for (int offset = kChunks / 2; offset > 0; offset /= 2) {
        dot[j] += __shfl_xor_sync(0xffffffff, dot[j], offset);
      }
    }
    if constexpr (kRotate) hadamard_row<kChunks>(v[j], chunk);
    float& amax = factors[j / (kBlockRows / kLanes)];
#pragma unroll
    for (int i = 0; i < 8; ++i) amax = fmaxf(amax, fabsf(v[j][i]));
  }
  block_max<kThreads>(factors);
#pragma unroll
  for (int g = 0; g < kGroups; ++g) factors[g] = sage_int8_factor(factors[g]);
#pragma unroll
  for (int j = 0; j < kPer; ++j) {
    const int row = lane + j * kLanes;
    if (row < rows) {
      *reinterpret_cast<uint2*>(codes + (long long)row * kD + chunk * 8) =
          encode8<true>(v[j], 1.0f / factors[j / (kBlockRows / kLanes)]);
    }
  }
}

// Grid (ceil(kv_len / kSageKKeys), kv_heads, batch).
template <bool kBf16, int kD, bool kSmooth, bool kRotate>
__device__ __forceinline__ void sage_quant_k(const SageQuantArgs& a) {
  __shared__ float mean[kD];
  const int b = blockIdx.z, hkv = blockIdx.y, row0 = blockIdx.x * kSageKKeys;
  const long long plane = (long long)b * a.kv_heads + hkv;
  if constexpr (kSmooth) {
    for (int c = threadIdx.x; c < kD; c += kSageThreads) {
      mean[c] = a.k_sum[plane * kD + c] / (float)a.k_sample_rows;
    }
    __syncthreads();
  }
  float factor[1];
  float unused[kSageKKeys * kD / 8 / kSageThreads];
  quantise_rows<kBf16, kD, kSageKKeys, kSageKKeys, kSageThreads, kRotate, false>(
      a.k + b * a.k_stride[0] + hkv * a.k_stride[1] + row0 * a.k_stride[2], a.k_stride[2],
      min(kSageKKeys, a.kv_len - row0), kSmooth ? mean : nullptr, nullptr,
      a.k8 + (plane * a.kv_len + row0) * kD, factor, unused);
  if (threadIdx.x == 0) {
    a.k_scale[plane * ((a.kv_len + kSageKKeys - 1) / kSageKKeys) + blockIdx.x] = factor[0];
  }
}

// Grid (ceil(q_len / kSageQCtaRows), heads, batch): kSageQCtaRows rows
// of kSageQRows-row blocks, so that a CTA reads enough to keep memory busy.
template <bool kBf16, int kD, bool kSmooth, bool kRotate>
__device__ __forceinline__ void sage_quant_q(const SageQuantArgs& a) {
  constexpr int kChunks = kD / 8, kLanes = kSageThreads / kChunks;
  constexpr int kBlocks = kSageQCtaRows / kSageQRows;
  __shared__ float mean[kD];
  const int b = blockIdx.z, h = blockIdx.y, row0 = blockIdx.x * kSageQCtaRows;
  const int hkv = h / (a.heads / a.kv_heads);
  const long long plane = (long long)b * a.heads + h;
  if constexpr (kSmooth) {
    const long long kv_plane = (long long)b * a.kv_heads + hkv;
    // No keys have no mean, and their queries' scores are never read.
    for (int c = threadIdx.x; c < kD; c += kSageThreads) {
      mean[c] = a.kv_len > 0 ? a.k_sum[kv_plane * kD + c] / (float)a.k_sample_rows : 0.0f;
    }
    __syncthreads();
  }
  const int rows = min(kSageQCtaRows, a.q_len - row0);
  float factors[kBlocks];
  float dot[kSageQCtaRows / kLanes];
  quantise_rows<kBf16, kD, kSageQCtaRows, kSageQRows, kSageThreads, kRotate, kSmooth>(
      a.q + b * a.q_stride[0] + h * a.q_stride[1] + row0 * a.q_stride[2], a.q_stride[2], rows,
      nullptr, kSmooth ? mean : nullptr, a.q8 + (plane * a.q_len + row0) * kD, factors, dot);
  if (threadIdx.x == 0) {
    const int q_blocks = (a.q_len + kSageQRows - 1) / kSageQRows;
#pragma unroll
    for (int g = 0; g < kBlocks; ++g) {
      const int block = blockIdx.x * kBlocks + g;
      if (block < q_blocks) a.q_scale[plane * q_blocks + block] = factors[g];
    }
  }
  if (kSmooth && threadIdx.x % kChunks == 0) {
#pragma unroll
    for (int j = 0; j < kSageQCtaRows / kLanes; ++j) {
      const int row = threadIdx.x / kChunks + j * kLanes;
      if (row < rows) a.mean[plane * a.q_len + row0 + row] = dot[j];
    }
  }
}

// Grid (ceil(padded_len / kFp8VTile), head_dim_v / kFp8VTile, batch *
// kv_heads): a 64 x 64 square as e4m3 codes of each channel's factor.
template <bool kBf16, int kDV>
__device__ __forceinline__ void sage_v_layout(const SageQuantArgs& a) {
  __shared__ Fp8VSquare square;
  const int plane = blockIdx.z;
  const int key0 = blockIdx.x * kFp8VTile, col0 = blockIdx.y * kFp8VTile;
  const unsigned short* v =
      a.v + plane / a.kv_heads * a.v_stride[0] + plane % a.kv_heads * a.v_stride[1];
  const int row = threadIdx.x / 4, chunk = threadIdx.x % 4 * 16;
  uint4 codes = make_uint4(0, 0, 0, 0);
  if (key0 + row < a.kv_len) {
    unsigned w[4];
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      float x[8];
      const int col = col0 + chunk + 8 * half;
      unpack8<kBf16>(
          *reinterpret_cast<const uint4*>(v + (long long)(key0 + row) * a.v_stride[2] + col), x);
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        x[i] /= sage_e4m3_factor(a.v_max[(long long)plane * kDV + col + i]);
      }
      const uint2 pair = encode8<false>(x, 1.0f);
      w[2 * half] = pair.x;
      w[2 * half + 1] = pair.y;
    }
    codes = make_uint4(w[0], w[1], w[2], w[3]);
  }
  *reinterpret_cast<uint4*>(&square[row][chunk]) = codes;
  __syncthreads();
  store_v_square(square, a.vt, plane, kDV, a.padded_len, key0, col0);
}

#endif

}  // namespace aj
