// An interpreter of the typed IR, in the reference's precision: ints as
// wrapping int64, floats as double, so the oracle carries more precision than
// any kernel it checks.
#pragma once

#include <attnjit/ir.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>

namespace attnjit::reference {

// One value of the language. Held by value so that evaluation never allocates.
struct Value {
  ir::Type type = ir::Type::Int;
  std::int64_t i = 0;  // meaningful when type is Int
  double f = 0;        // meaningful when type is Float
  bool b = false;      // meaningful when type is Bool

  static Value of_int(std::int64_t value) { return {ir::Type::Int, value, 0, false}; }
  static Value of_float(double value) { return {ir::Type::Float, 0, value, false}; }
  static Value of_bool(bool value) { return {ir::Type::Bool, 0, 0, value}; }
};

// A run-time tensor as expressions see it: row-major data over shape, with
// data.size() the product of shape. Elements of an int tensor must fit int64.
struct TensorView {
  std::span<const std::int64_t> shape;
  std::span<const double> data;
};

// The params and tensors of one computation, already checked against the variant.
struct Bindings {
  std::map<std::string, Value, std::less<>> params;
  std::map<std::string, TensorView, std::less<>> tensors;
};

// The values of the built-in names at one (b, h, q, k) position.
struct Point {
  std::int64_t b = 0;
  std::int64_t h = 0;
  std::int64_t hkv = 0;
  std::int64_t q = 0;
  std::int64_t k = 0;
  std::int64_t batch = 1;
  std::int64_t heads = 1;
  std::int64_t kv_heads = 1;
  std::int64_t q_len = 1;
  std::int64_t kv_len = 1;
  double score = 0;
};

// Evaluates a well-typed expression with the language's semantics: wrapping
// ints, division and remainder by zero giving 0, and tensor reads outside the
// bounds giving 0 (false for bool). Throws InputError when the expression
// names a param or tensor that the bindings lack, or indexes a tensor with the
// wrong number of indices.
Value evaluate(const ir::Expr& expr, const Point& point, const Bindings& bindings);

// Whether every conjunct of a mask holds at `point`.
bool mask_holds(std::span<const ir::ExprPtr> conjuncts, const Point& point,
                const Bindings& bindings);

}  // namespace attnjit::reference
