// The meaning of each operator and function on concrete values, shared by
// constant folding and the CPU reference so that both agree bit for bit on
// ints and differ on floats only by the width they compute in.
#pragma once

#include <attnjit/ir.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace attnjit::semantics {

// Ints have 64-bit two's-complement semantics: overflow wraps, never traps.
inline std::int64_t wrap(std::uint64_t bits) { return static_cast<std::int64_t>(bits); }
inline std::int64_t add(std::int64_t a, std::int64_t b) {
  return wrap(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
inline std::int64_t sub(std::int64_t a, std::int64_t b) {
  return wrap(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
inline std::int64_t mul(std::int64_t a, std::int64_t b) {
  return wrap(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}
inline std::int64_t neg(std::int64_t a) { return sub(0, a); }
// Division by zero gives 0; the one overflowing quotient wraps.
inline std::int64_t div(std::int64_t a, std::int64_t b) {
  if (b == 0) return 0;
  if (b == -1) return neg(a);
  return a / b;
}
inline std::int64_t mod(std::int64_t a, std::int64_t b) {
  if (b == 0 || b == -1) return 0;
  return a % b;
}
inline std::int64_t abs(std::int64_t a) { return a < 0 ? neg(a) : a; }

// Integer-valued ops on two ints (arithmetic only).
inline std::int64_t int_binary(ir::BinaryOp op, std::int64_t a, std::int64_t b) {
  switch (op) {
    case ir::BinaryOp::Add: return add(a, b);
    case ir::BinaryOp::Sub: return sub(a, b);
    case ir::BinaryOp::Mul: return mul(a, b);
    case ir::BinaryOp::Div: return div(a, b);
    case ir::BinaryOp::Mod: return mod(a, b);
    default: return 0;
  }
}

template <class F>
F float_binary(ir::BinaryOp op, F a, F b) {
  switch (op) {
    case ir::BinaryOp::Add: return a + b;
    case ir::BinaryOp::Sub: return a - b;
    case ir::BinaryOp::Mul: return a * b;
    case ir::BinaryOp::Div: return a / b;
    default: return F(0);
  }
}

template <class T>
bool compare(ir::BinaryOp op, T a, T b) {
  switch (op) {
    case ir::BinaryOp::Lt: return a < b;
    case ir::BinaryOp::Le: return a <= b;
    case ir::BinaryOp::Gt: return a > b;
    case ir::BinaryOp::Ge: return a >= b;
    case ir::BinaryOp::Eq: return a == b;
    case ir::BinaryOp::Ne: return a != b;
    default: return false;
  }
}

inline bool is_comparison(ir::BinaryOp op) {
  return op >= ir::BinaryOp::Lt && op <= ir::BinaryOp::Ne;
}
inline bool is_logical(ir::BinaryOp op) {
  return op == ir::BinaryOp::And || op == ir::BinaryOp::Or;
}

// min/max follow fmin/fmax (a NaN operand is ignored), as CUDA's fminf/fmaxf do.
template <class F>
F float_call(ir::Func func, std::span<const F> x) {
  using std::abs, std::ceil, std::exp, std::exp2, std::floor, std::fmax, std::fmin, std::log,
      std::log2, std::sqrt, std::tanh;
  switch (func) {
    case ir::Func::Abs: return abs(x[0]);
    case ir::Func::Min: return fmin(x[0], x[1]);
    case ir::Func::Max: return fmax(x[0], x[1]);
    case ir::Func::Clamp: return fmin(fmax(x[0], x[1]), x[2]);
    case ir::Func::Exp: return exp(x[0]);
    case ir::Func::Exp2: return exp2(x[0]);
    case ir::Func::Log: return log(x[0]);
    case ir::Func::Log2: return log2(x[0]);
    case ir::Func::Sqrt: return sqrt(x[0]);
    case ir::Func::Rsqrt: return F(1) / sqrt(x[0]);
    case ir::Func::Tanh: return tanh(x[0]);
    case ir::Func::Sigmoid: return F(1) / (F(1) + exp(-x[0]));
    case ir::Func::Floor: return floor(x[0]);
    case ir::Func::Ceil: return ceil(x[0]);
    case ir::Func::Softcap: return x[1] * tanh(x[0] / x[1]);
  }
  return std::numeric_limits<F>::quiet_NaN();
}

// Functions that keep ints as ints: abs, min, max, clamp.
inline std::int64_t int_call(ir::Func func, std::span<const std::int64_t> x) {
  switch (func) {
    case ir::Func::Abs: return abs(x[0]);
    case ir::Func::Min: return x[0] < x[1] ? x[0] : x[1];
    case ir::Func::Max: return x[0] > x[1] ? x[0] : x[1];
    case ir::Func::Clamp: {
      const std::int64_t lo = x[0] > x[1] ? x[0] : x[1];
      return lo < x[2] ? lo : x[2];
    }
    default: return 0;
  }
}

inline bool keeps_int(ir::Func func) {
  return func == ir::Func::Abs || func == ir::Func::Min || func == ir::Func::Max ||
         func == ir::Func::Clamp;
}

}  // namespace attnjit::semantics
