// What generated variant code stands on: the language's int semantics,
// bounds-safe tensor reads, and interval arithmetic for tile classification.
// Compiles as device code under NVRTC and as host C++ in tests, so the CPU
// can check the very code the GPU runs.
#pragma once

#include "attnjit/fwd_args.h"

#ifdef __CUDACC_RTC__
#define AJ_HD __device__ __forceinline__
#else
#include <cmath>
#include <cstring>
#include <limits>
#define AJ_HD inline
#endif

namespace aj {

// Sizes and indices of one (q, k) element: what the language's built-in names read.
struct Index {
  long long b, h, hkv, q, k, batch, heads, kv_heads, q_len, kv_len;
};

// --- ints: 64-bit, wrapping, division by zero gives 0 (LANGUAGE.md) -----------
AJ_HD long long add(long long a, long long b) {
  return (long long)((unsigned long long)a + (unsigned long long)b);
}
AJ_HD long long sub(long long a, long long b) {
  return (long long)((unsigned long long)a - (unsigned long long)b);
}
AJ_HD long long mul(long long a, long long b) {
  return (long long)((unsigned long long)a * (unsigned long long)b);
}
AJ_HD long long neg(long long a) { return sub(0, a); }
// 64-bit division is a long instruction sequence on the GPU; kept out of line
// so that a mask evaluated for every element of an unrolled tile stays small
// and quick to compile. Not where warpgroups trade registers (AJ_INLINE_DIVISION,
// the Hopper family): a call makes ptxas ignore setmaxnreg.
#if defined(__CUDACC_RTC__) && defined(AJ_INLINE_DIVISION)
__device__ __forceinline__ long long div_nonzero(long long a, long long b) { return a / b; }
__device__ __forceinline__ long long mod_nonzero(long long a, long long b) { return a % b; }
#elif defined(__CUDACC_RTC__)
__device__ __noinline__ long long div_nonzero(long long a, long long b) { return a / b; }
__device__ __noinline__ long long mod_nonzero(long long a, long long b) { return a % b; }
#else
inline long long div_nonzero(long long a, long long b) { return a / b; }
inline long long mod_nonzero(long long a, long long b) { return a % b; }
#endif
AJ_HD long long div(long long a, long long b) {
  return b == 0 ? 0 : b == -1 ? neg(a) : div_nonzero(a, b);
}
AJ_HD long long mod(long long a, long long b) { return b == 0 || b == -1 ? 0 : mod_nonzero(a, b); }
// The same for operands the generator proved to fit int32 (codegen/int_range):
// the quotient of INT32_MIN by -1 is the one result that does not, hence neg.
AJ_HD long long div32(long long a, long long b) {
  return b == 0 ? 0 : b == -1 ? neg(a) : (long long)((int)a / (int)b);
}
AJ_HD long long mod32(long long a, long long b) {
  return b == 0 || b == -1 ? 0 : (long long)((int)a % (int)b);
}
AJ_HD float float_from_bits(unsigned bits) {
#ifdef __CUDACC_RTC__
  return __uint_as_float(bits);
#else
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
#endif
}
// (float)x, rounded to nearest like the conversion instruction, for x that
// fits 32 bits (the generator proves it), in full-rate integer and float
// operations: a 64-bit conversion takes register pairs and a quarter-rate
// unit, and ALiBi's k - q per element made the sm_80 family spill with it.
// x = hi * 2^22 + lo with 0 <= lo < 2^22; each part becomes a float exactly
// in the mantissa of a float of known exponent; the fma rounds once.
AJ_HD float int32_to_float(long long x) {
  const int narrow = (int)x;
  const float lo = float_from_bits(0x4B000000u | (unsigned)(narrow & 0x3FFFFF)) - 8388608.0f;
  const float hi = float_from_bits(0x4B400000u + (unsigned)(narrow >> 22)) - 12582912.0f;
  return fmaf(hi, 4194304.0f, lo);
}
AJ_HD long long iabs(long long a) { return a < 0 ? neg(a) : a; }
AJ_HD long long imin(long long a, long long b) { return a < b ? a : b; }
AJ_HD long long imax(long long a, long long b) { return a > b ? a : b; }
AJ_HD long long iclamp(long long x, long long lo, long long hi) { return imin(imax(x, lo), hi); }
// The same for ints whose every value fits 32 bits (codegen/int_range): no
// result can wrap.
AJ_HD int iabs32(int a) { return a < 0 ? -a : a; }
AJ_HD int imin32(int a, int b) { return a < b ? a : b; }
AJ_HD int imax32(int a, int b) { return a > b ? a : b; }
AJ_HD int iclamp32(int x, int lo, int hi) { return imin32(imax32(x, lo), hi); }

// --- floats: 32-bit; accurate library functions, not the fast approximations --
AJ_HD float fclamp(float x, float lo, float hi) { return fminf(fmaxf(x, lo), hi); }
AJ_HD float frsqrt(float x) { return 1.0f / sqrtf(x); }
AJ_HD float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
// cap * tanh(x / cap) as cap - 2 cap / (1 + e^(2x / cap)): on the GPU with
// the hardware's exp2 and reciprocal (two MUFU operations instead of tanhf's
// branchy sequence of some twenty). Its absolute error stays within a few
// units of cap's last place, which is what a logit needs; only its relative
// error near 0 is worse than tanhf's, and a softmax does not see that.
AJ_HD float softcap(float x, float cap) {
  const float twice_log2e = 2.8853900817779268f;
#ifdef __CUDACC_RTC__
  float e, inv;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(e) : "f"(x * (twice_log2e / cap)));
  asm("rcp.approx.ftz.f32 %0, %1;\n" : "=f"(inv) : "f"(1.0f + e));
  return fmaf(-2.0f * cap, inv, cap);
#else
  return fmaf(-2.0f * cap, 1.0f / (1.0f + std::exp2(x * (twice_log2e / cap))), cap);
#endif
}

// --- tensors: an index outside the extents reads 0 (false for bool) -----------
struct I32 {
  using Stored = int;
  using Value = long long;
};
struct U8 {
  using Stored = unsigned char;
  using Value = long long;
};
struct Bool {
  using Stored = unsigned char;
  using Value = bool;
};
struct F32 {
  using Stored = float;
  using Value = float;
};
struct F16 {
  using Stored = unsigned short;
  using Value = float;
};
struct BF16 {
  using Stored = unsigned short;
  using Value = float;
};

AJ_HD float half_bits_to_float(unsigned short bits) {
#ifdef __CUDACC_RTC__
  float out;
  asm("{ .reg .f16 h; mov.b16 h, %1; cvt.f32.f16 %0, h; }" : "=f"(out) : "h"(bits));
  return out;
#else
  const unsigned sign = (bits >> 15) & 1U, exponent = (bits >> 10) & 0x1fU,
                 mantissa = bits & 0x3ffU;
  float magnitude = exponent == 0    ? std::ldexp(float(mantissa), -24)
                    : exponent == 31 ? (mantissa != 0 ? std::numeric_limits<float>::quiet_NaN()
                                                      : std::numeric_limits<float>::infinity())
                                     : std::ldexp(float(mantissa | 0x400U), int(exponent) - 25);
  return sign != 0 ? -magnitude : magnitude;
#endif
}
AJ_HD float bf16_bits_to_float(unsigned short bits) {
  return float_from_bits((unsigned int)bits << 16);
}
// A 16-bit input element of a family's kBf16 (else fp16).
template <bool kBf16>
AJ_HD float bits_to_float(unsigned short bits) {
  return kBf16 ? bf16_bits_to_float(bits) : half_bits_to_float(bits);
}

template <class T>
AJ_HD typename T::Value convert(typename T::Stored stored) {
  return (typename T::Value)stored;
}
template <>
AJ_HD bool convert<Bool>(unsigned char stored) {
  return stored != 0;
}
template <>
AJ_HD float convert<F16>(unsigned short stored) {
  return half_bits_to_float(stored);
}
template <>
AJ_HD float convert<BF16>(unsigned short stored) {
  return bf16_bits_to_float(stored);
}

template <class T, int Rank>
AJ_HD typename T::Value read_at(const TensorArg<Rank>& tensor, const long long (&index)[Rank]) {
  long long offset = 0;
#pragma unroll
  for (int d = 0; d < Rank; ++d) {
    if (index[d] < 0 || index[d] >= tensor.extent[d]) return typename T::Value(0);
    offset += index[d] * tensor.stride[d];
  }
  return convert<T>(((const typename T::Stored*)tensor.data)[offset]);
}

template <class T, int Rank, class... Ix>
AJ_HD typename T::Value read(const TensorArg<Rank>& tensor, Ix... indices) {
  static_assert(sizeof...(Ix) == Rank, "one index per dimension");
  const long long index[Rank] = {(long long)indices...};
  return read_at<T>(tensor, index);
}

// --- interval arithmetic for tile classification ------------------------------
// Ints are bounded in doubles: exact while |x| <= 2^52. An infinite bound
// means none is known (the value may be as far as INT64_MIN or INT64_MAX).
// Arithmetic whose result may go beyond 2^52, or that takes an operand with
// an infinite bound, may have wrapped around int64 to any value at all, so it
// gives the unknown interval: widening only the side that overflowed would
// miss the wrapped values (q * 2^62 is negative for q == 2).
struct IvI {
  double lo, hi;
};
// A bool over a tile: which values it can take.
struct IvB {
  bool can_false, can_true;
};

constexpr double kExact = 4503599627370496.0;  // 2^52
#ifdef __CUDACC_RTC__
AJ_HD double inf() { return __longlong_as_double(0x7ff0000000000000LL); }
#else
AJ_HD double inf() { return std::numeric_limits<double>::infinity(); }
#endif

AJ_HD IvI iv_unknown() { return {-inf(), inf()}; }
AJ_HD IvI iv_norm(double lo, double hi) {
  return lo < -kExact || hi > kExact ? iv_unknown() : IvI{lo, hi};
}
AJ_HD IvI iv_point(long long v) { return iv_norm((double)v, (double)v); }
AJ_HD IvI iv_range(long long lo, long long hi) { return iv_norm((double)lo, (double)hi); }
AJ_HD IvB iv_bool(bool v) { return {!v, v}; }
AJ_HD IvB iv_bool_unknown() { return {true, true}; }
AJ_HD bool iv_finite(IvI a) { return a.lo > -inf() && a.hi < inf(); }
AJ_HD bool iv_is_point(IvI a) { return iv_finite(a) && a.lo == a.hi; }
AJ_HD double dmin(double a, double b) { return a < b ? a : b; }
AJ_HD double dmax(double a, double b) { return a > b ? a : b; }

AJ_HD IvI iv_add(IvI a, IvI b) { return iv_norm(a.lo + b.lo, a.hi + b.hi); }
AJ_HD IvI iv_sub(IvI a, IvI b) { return iv_norm(a.lo - b.hi, a.hi - b.lo); }
// -INT64_MIN wraps to INT64_MIN: an unbounded side leaves nothing known.
AJ_HD IvI iv_neg(IvI a) { return iv_norm(-a.hi, -a.lo); }
// An unknown factor times an exact zero is still zero.
AJ_HD double times(double a, double b) { return a == 0 || b == 0 ? 0.0 : a * b; }
AJ_HD IvI iv_mul(IvI a, IvI b) {
  const double p1 = times(a.lo, b.lo), p2 = times(a.lo, b.hi), p3 = times(a.hi, b.lo),
               p4 = times(a.hi, b.hi);
  return iv_norm(dmin(dmin(p1, p2), dmin(p3, p4)), dmax(dmax(p1, p2), dmax(p3, p4)));
}
AJ_HD IvI iv_hull(IvI a, IvI b) { return {dmin(a.lo, b.lo), dmax(a.hi, b.hi)}; }
// Narrow: the operands fit int32 (codegen/int_range), so div32 and mod32 serve.
template <bool Narrow>
AJ_HD long long div_as(long long a, long long b) {
  return Narrow ? div32(a, b) : div(a, b);
}
template <bool Narrow>
AJ_HD long long mod_as(long long a, long long b) {
  return Narrow ? mod32(a, b) : mod(a, b);
}
template <bool Narrow>
AJ_HD IvI iv_div_by(IvI a, long long lo_d, long long hi_d) {
  // Divisors of one sign: the quotient is monotone in each argument, so the
  // corners bound it; computed in exact int arithmetic.
  const long long alo = (long long)a.lo, ahi = (long long)a.hi;
  const long long q1 = div_as<Narrow>(alo, lo_d), q2 = div_as<Narrow>(alo, hi_d),
                  q3 = div_as<Narrow>(ahi, lo_d), q4 = div_as<Narrow>(ahi, hi_d);
  return iv_range(imin(imin(q1, q2), imin(q3, q4)), imax(imax(q1, q2), imax(q3, q4)));
}
template <bool Narrow>
AJ_HD IvI iv_div_as(IvI a, IvI b) {
  if (!iv_finite(a) || !iv_finite(b)) return iv_unknown();
  const long long blo = (long long)b.lo, bhi = (long long)b.hi;
  IvI out = {inf(), -inf()};
  bool any = false;
  if (blo <= -1) {
    out = iv_div_by<Narrow>(a, blo, imin(bhi, -1));
    any = true;
  }
  if (bhi >= 1) {
    const IvI positive = iv_div_by<Narrow>(a, imax(blo, 1), bhi);
    out = any ? iv_hull(out, positive) : positive;
    any = true;
  }
  if (blo <= 0 && bhi >= 0) out = any ? iv_hull(out, iv_point(0)) : iv_point(0);
  return out;
}
template <bool Narrow>
AJ_HD IvI iv_mod_as(IvI a, IvI b) {
  if (!iv_finite(a) || !iv_finite(b)) return iv_unknown();
  const long long alo = (long long)a.lo, ahi = (long long)a.hi;
  if (iv_is_point(b)) {
    const long long d = (long long)b.lo;
    if (d == 0 || d == -1) return iv_point(0);
    // One quotient over the whole range: the remainder grows with the dividend.
    if (div_as<Narrow>(alo, d) == div_as<Narrow>(ahi, d) && (alo >= 0 || ahi <= 0))
      return iv_range(mod_as<Narrow>(alo, d), mod_as<Narrow>(ahi, d));
  }
  const double m = dmax(-b.lo, b.hi) - 1;  // |remainder| < |divisor|
  if (m < 0) return iv_point(0);
  return {a.lo >= 0 ? 0.0 : dmax(-m, a.lo), a.hi <= 0 ? 0.0 : dmin(m, a.hi)};
}
AJ_HD IvI iv_div(IvI a, IvI b) { return iv_div_as<false>(a, b); }
AJ_HD IvI iv_div32(IvI a, IvI b) { return iv_div_as<true>(a, b); }
AJ_HD IvI iv_mod(IvI a, IvI b) { return iv_mod_as<false>(a, b); }
AJ_HD IvI iv_mod32(IvI a, IvI b) { return iv_mod_as<true>(a, b); }
AJ_HD IvI iv_abs(IvI a) {
  if (a.lo >= 0) return a;
  if (a.hi <= 0) return iv_neg(a);
  return iv_norm(0.0, dmax(-a.lo, a.hi));  // abs(INT64_MIN) is INT64_MIN
}
AJ_HD IvI iv_min(IvI a, IvI b) { return {dmin(a.lo, b.lo), dmin(a.hi, b.hi)}; }
AJ_HD IvI iv_max(IvI a, IvI b) { return {dmax(a.lo, b.lo), dmax(a.hi, b.hi)}; }
AJ_HD IvI iv_clamp(IvI x, IvI lo, IvI hi) { return iv_min(iv_max(x, lo), hi); }

AJ_HD IvB iv_lt(IvI a, IvI b) { return {a.hi >= b.lo, a.lo < b.hi}; }
AJ_HD IvB iv_le(IvI a, IvI b) { return {a.hi > b.lo, a.lo <= b.hi}; }
AJ_HD IvB iv_gt(IvI a, IvI b) { return iv_lt(b, a); }
AJ_HD IvB iv_ge(IvI a, IvI b) { return iv_le(b, a); }
AJ_HD IvB iv_eq(IvI a, IvI b) {
  const bool disjoint = a.hi < b.lo || b.hi < a.lo;
  const bool same_point = iv_is_point(a) && iv_is_point(b) && a.lo == b.lo;
  return {!same_point, !disjoint};
}
AJ_HD IvB iv_not(IvB a) { return {a.can_true, a.can_false}; }
AJ_HD IvB iv_ne(IvI a, IvI b) { return iv_not(iv_eq(a, b)); }
AJ_HD IvB iv_and(IvB a, IvB b) { return {a.can_false || b.can_false, a.can_true && b.can_true}; }
AJ_HD IvB iv_or(IvB a, IvB b) { return {a.can_false && b.can_false, a.can_true || b.can_true}; }
AJ_HD IvB iv_beq(IvB a, IvB b) {
  return {(a.can_true && b.can_false) || (a.can_false && b.can_true),
          (a.can_true && b.can_true) || (a.can_false && b.can_false)};
}
AJ_HD IvB iv_bne(IvB a, IvB b) { return iv_not(iv_beq(a, b)); }
AJ_HD IvI iv_select(IvB c, IvI a, IvI b) {
  return !c.can_false ? a : !c.can_true ? b : iv_hull(a, b);
}
AJ_HD IvB iv_bselect(IvB c, IvB a, IvB b) {
  if (!c.can_false) return a;
  if (!c.can_true) return b;
  return {a.can_false || b.can_false, a.can_true || b.can_true};
}

// What a key tile is under the mask, for the rows and keys it covers.
enum TileClass : int { kEmpty = 0, kFull = 1, kPartial = 2 };

// The rows and keys of a tile (inclusive bounds) and the fixed indices.
struct Tile {
  Index at;  // b, h, hkv and the sizes; q and k unused
  long long q0, q1, k0, k1;
  // False for a classifier lane that only helps its warp read (aj::iv_fold).
  bool live = true;
};

// A tensor read over a tile: where its indices reach few elements (a
// document id over a tile's rows, say), every one of them is read and the
// least and greatest bound the value. Data then decides what interval
// arithmetic alone cannot: two tiles of different documents never meet.
constexpr long long kIvReadScan = 256;
constexpr int kIvReadSteps = (int)kIvReadScan / 32;  // a warp's steps over the most elements

// The elements a read's index intervals reach: count 0 where the read is not
// live or they are unbounded or more than kIvReadScan.
template <int Rank>
struct IvBox {
  long long first[Rank] = {};
  int width[Rank] = {};
  int count = 0;

  AJ_HD IvBox(bool live, const IvI (&index)[Rank]) {
    if (!live) return;
    long long elements = 1;
#pragma unroll
    for (int d = 0; d < Rank; ++d) {
      if (!iv_finite(index[d])) return;
      first[d] = (long long)index[d].lo;
      const long long w = (long long)index[d].hi - first[d] + 1;
      if (w <= 0) return;
      elements *= w;
      if (elements > kIvReadScan) return;
      width[d] = (int)w;
    }
    count = (int)elements;
  }

  // Whether at most one dimension is wider than one element, as a document
  // id over a tile's rows is: element n is then n steps along that line.
  AJ_HD bool is_line() const {
    int wide = 0;
#pragma unroll
    for (int d = 0; d < Rank; ++d) wide += width[d] > 1 ? 1 : 0;
    return wide <= 1;
  }

  // Element n < count, the last dimension fastest; 32-bit steps, as a 64-bit
  // division is a call.
  template <class T>
  AJ_HD typename T::Value read(const TensorArg<Rank>& tensor, int n) const {
    long long at[Rank];
#pragma unroll
    for (int d = Rank - 1; d >= 0; --d) {
      at[d] = first[d] + n % width[d];
      n /= width[d];
    }
    return read_at<T>(tensor, at);
  }
};

// A line box bound to its tensor: element n costs a bounds check and a load,
// so that many can be in flight at once.
template <class T>
struct IvLine {
  const typename T::Stored* base = nullptr;  // the element at position 0 of the line
  long long stride = 0, first = 0, extent = 0;

  template <int Rank>
  AJ_HD IvLine(const IvBox<Rank>& box, const TensorArg<Rank>& tensor) {
    long long offset = 0;
    bool inside = true;
#pragma unroll
    for (int d = 0; d < Rank; ++d) {
      if (box.width[d] > 1) {
        stride = tensor.stride[d];
        first = box.first[d];
        extent = tensor.extent[d];
      } else {
        inside = inside && box.first[d] >= 0 && box.first[d] < tensor.extent[d];
        offset += box.first[d] * tensor.stride[d];
      }
    }
    if (stride == 0) {  // a single element: a line of one along no dimension
      first = 0;
      extent = 1;
    }
    if (!inside) extent = 0;  // every element is out of range, so reads 0
    base = (const typename T::Stored*)tensor.data + offset;
  }

  // Element n, or 0 where n is not below `count`.
  AJ_HD typename T::Value read(int n, int count) const {
    const long long at = first + n;
    return n < count && at >= 0 && at < extent ? convert<T>(base[at * stride])
                                               : typename T::Value(0);
  }
};

// The least and greatest int element, and whether some bool element is true
// or false: what a read over a tile folds its elements into.
// In 32 bits: the integer tensors (i32, u8) hold no wider values, and a
// warp joins 32-bit values in one instruction each, where 64-bit ones took
// ten shuffles and twenty compares and selects (most of what a classifier
// warp issued for a document id over a tile).
struct IvFoldInt {
  using Input = int;
  int lo = 0x7fffffff, hi = -0x7fffffff - 1;
  AJ_HD void add(int v) {
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
#ifdef __CUDACC_RTC__
  __device__ void warp_join() {
    lo = __reduce_min_sync(0xffffffffU, lo);
    hi = __reduce_max_sync(0xffffffffU, hi);
  }
#endif
};

struct IvFoldBool {
  using Input = bool;
  bool can_true = false, can_false = false;
  AJ_HD void add(bool v) {
    can_true = can_true || v;
    can_false = can_false || !v;
  }
#ifdef __CUDACC_RTC__
  __device__ void warp_join() {
    can_true = __any_sync(0xffffffffU, can_true);
    can_false = __any_sync(0xffffffffU, can_false);
  }
#endif
};

// On the GPU the classifier gives each lane a tile of its own and every
// lane of the warp comes here together (not live, it reads nothing). Where
// every lane's elements are few, each reads its own. Otherwise the warp reads
// the elements of each lane that has any in turn, 32 a step: where every box
// is a line (a document id over a tile's rows), kIvReadOwners lanes' boxes at
// a time with all of their loads in flight, so that two tiles cost one memory
// latency; other boxes one at a time. Lanes without a tile of their own
// (FwdArgs::class_lanes) take no turn. The classifier's time is memory
// latencies, not work: a document mask's at 8192 tokens costs 6.8 us on the
// H100 with its loads issued before any is folded, where one latency a step
// cost 10.5.
constexpr int kIvReadAlone = 4;
constexpr int kIvReadOwners = 2;

#ifdef __CUDACC_RTC__
template <int Rank>
__device__ IvBox<Rank> iv_box_of(const IvBox<Rank>& box, int owner) {
  IvBox<Rank> theirs = box;
  theirs.count = __shfl_sync(0xffffffffU, box.count, owner);
#pragma unroll
  for (int d = 0; d < Rank; ++d) {
    theirs.first[d] = __shfl_sync(0xffffffffU, box.first[d], owner);
    theirs.width[d] = __shfl_sync(0xffffffffU, box.width[d], owner);
  }
  return theirs;
}

// Folds this lane's loads of an owner's elements (value[step] is element
// lane + 32 * step, real below `count`), joins the parts over the warp and
// leaves the whole in the owner's `out`.
template <class Fold, int Steps>
__device__ __forceinline__ void iv_fold_for(int owner, int count,
                                            const typename Fold::Input (&value)[Steps], Fold& out) {
  const int lane = threadIdx.x % 32;
  Fold part;
#pragma unroll
  for (int step = 0; step < Steps; ++step) {
    if (lane + 32 * step < count) part.add(value[step]);
  }
  part.warp_join();
  if (lane == owner) out = part;
}
#endif

template <class T, int Rank, class Fold>
AJ_HD bool iv_fold(bool live, const TensorArg<Rank>& tensor, const IvI (&index)[Rank], Fold& out) {
  const IvBox<Rank> box(live, index);
#ifdef __CUDACC_RTC__
  if (!__all_sync(0xffffffffU, box.count <= kIvReadAlone)) {
    const int lane = threadIdx.x % 32;
    // Only lanes with elements to read (live, a tile of their own) own a turn.
    unsigned pending = __ballot_sync(0xffffffffU, box.count > 0);
    if (__all_sync(0xffffffffU, box.is_line())) {
      while (pending != 0U) {
        // Every load is issued before any is folded: a load inside the
        // fold's bounds test waits for the one before it, which made a
        // tile's read as many memory latencies as it has steps.
        int owner[kIvReadOwners], count[kIvReadOwners];
        typename Fold::Input value[kIvReadOwners][kIvReadSteps];
#pragma unroll
        for (int j = 0; j < kIvReadOwners; ++j) {
          owner[j] = pending != 0U ? __ffs(pending) - 1 : -1;
          if (owner[j] < 0) break;  // warp-uniform: no lane's box left to read
          pending &= pending - 1U;
          const IvBox<Rank> theirs = iv_box_of(box, owner[j]);
          const IvLine<T> line(theirs, tensor);
          count[j] = theirs.count;
#pragma unroll
          for (int step = 0; step < kIvReadSteps; ++step) {
            value[j][step] = (typename Fold::Input)line.read(lane + 32 * step, count[j]);
          }
        }
#pragma unroll
        for (int j = 0; j < kIvReadOwners; ++j) {
          if (owner[j] < 0) break;
          iv_fold_for(owner[j], count[j], value[j], out);
        }
      }
      return box.count > 0;
    }
    while (pending != 0U) {
      const int owner = __ffs(pending) - 1;
      pending &= pending - 1U;
      const IvBox<Rank> theirs = iv_box_of(box, owner);
      typename Fold::Input value[kIvReadSteps];
#pragma unroll
      for (int step = 0; step < kIvReadSteps; ++step) {
        const int n = lane + 32 * step;
        value[step] = n < theirs.count ? (typename Fold::Input)theirs.template read<T>(tensor, n)
                                       : typename Fold::Input(0);
      }
      iv_fold_for(owner, theirs.count, value, out);
    }
    return box.count > 0;
  }
  // Every lane's box has at most kIvReadAlone elements here.
  typename Fold::Input value[kIvReadAlone];
#pragma unroll
  for (int n = 0; n < kIvReadAlone; ++n) {
    value[n] = n < box.count ? (typename Fold::Input)box.template read<T>(tensor, n)
                             : typename Fold::Input(0);
  }
#pragma unroll
  for (int n = 0; n < kIvReadAlone; ++n) {
    if (n < box.count) out.add(value[n]);
  }
#else
  for (int n = 0; n < box.count; ++n)
    out.add((typename Fold::Input)box.template read<T>(tensor, n));
#endif
  return box.count > 0;
}

template <class T, int Rank>
AJ_HD IvI iv_read(bool live, const TensorArg<Rank>& tensor, const IvI (&index)[Rank]) {
  IvFoldInt fold;
  if (!iv_fold<T>(live, tensor, index, fold)) return iv_unknown();
  return iv_norm((double)fold.lo, (double)fold.hi);
}

template <int Rank>
AJ_HD IvB iv_read_bool(bool live, const TensorArg<Rank>& tensor, const IvI (&index)[Rank]) {
  IvFoldBool fold;
  if (!iv_fold<Bool>(live, tensor, index, fold)) return iv_bool_unknown();
  return {fold.can_false, fold.can_true};
}

AJ_HD TileClass classify_bool(IvB m) {
  return !m.can_false ? kFull : !m.can_true ? kEmpty : kPartial;
}

}  // namespace aj
