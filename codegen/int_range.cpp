#include "codegen/int_range.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace attnjit::codegen {
namespace {

using Range = std::optional<IntRange>;

constexpr IntRange kInt32{std::numeric_limits<std::int32_t>::min(),
                          std::numeric_limits<std::int32_t>::max()};

Range builtin_range(ir::Builtin which) {
  switch (which) {
    case ir::Builtin::Q:
    case ir::Builtin::K: return IntRange{0, kMaxSequence - 1};
    case ir::Builtin::QLen:
    case ir::Builtin::KvLen: return IntRange{0, kMaxSequence};
    case ir::Builtin::B:
    case ir::Builtin::H:
    case ir::Builtin::Hkv: return IntRange{0, kMaxGridDim - 1};
    case ir::Builtin::Batch:
    case ir::Builtin::Heads:
    case ir::Builtin::KvHeads: return IntRange{1, kMaxGridDim};
    default: return std::nullopt;
  }
}

// The hull of op over the corners, or nothing when a corner overflows.
template <class Op>
Range corners(const Range& a, const Range& b, Op op) {
  if (!a || !b) return std::nullopt;
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  for (const std::int64_t x : {a->lo, a->hi}) {
    for (const std::int64_t y : {b->lo, b->hi}) {
      std::int64_t out = 0;
      if (op(x, y, &out)) return std::nullopt;
      lo = std::min(lo, out);
      hi = std::max(hi, out);
    }
  }
  return IntRange{lo, hi};
}

constexpr auto kAdd = [](std::int64_t x, std::int64_t y, std::int64_t* out) {
  return __builtin_add_overflow(x, y, out);
};
constexpr auto kSub = [](std::int64_t x, std::int64_t y, std::int64_t* out) {
  return __builtin_sub_overflow(x, y, out);
};
constexpr auto kMul = [](std::int64_t x, std::int64_t y, std::int64_t* out) {
  return __builtin_mul_overflow(x, y, out);
};

Range hull(const Range& a, const Range& b) {
  if (!a || !b) return std::nullopt;
  return IntRange{std::min(a->lo, b->lo), std::max(a->hi, b->hi)};
}

// |x / y| and |x % y| never exceed |x| (and both are 0 for y == 0), except
// INT64_MIN / -1, which wraps: a bound of |x| holds where x excludes INT64_MIN.
Range within_magnitude_of(const Range& x) {
  if (!x || x->lo == std::numeric_limits<std::int64_t>::min()) return std::nullopt;
  const std::int64_t top = std::max(-x->lo, x->hi);
  return IntRange{-top, top};
}

class Ranges {
 public:
  explicit Ranges(const Variant& variant) : variant_(variant) {}

  [[nodiscard]] Range of(const ir::ExprPtr& expr) const {
    const ir::Node& node = expr->node();
    if (const auto* n = std::get_if<ir::IntConst>(&node)) return IntRange{n->value, n->value};
    if (const auto* n = std::get_if<ir::BuiltinRef>(&node)) return builtin_range(n->which);
    if (std::holds_alternative<ir::ParamRef>(node)) return kInt32;  // int params are i32
    if (const auto* n = std::get_if<ir::TensorRead>(&node)) {
      const TensorDecl* tensor = variant_.find_tensor(n->name);
      if (tensor != nullptr && tensor->element == ElemType::U8) return IntRange{0, 255};
      return kInt32;  // out-of-bounds reads give 0
    }
    if (const auto* n = std::get_if<ir::Unary>(&node)) {
      return corners(IntRange{0, 0}, of(n->operand), kSub);
    }
    if (const auto* n = std::get_if<ir::Binary>(&node)) return binary(*n);
    if (const auto* n = std::get_if<ir::Select>(&node))
      return hull(of(n->if_true), of(n->if_false));
    if (const auto* n = std::get_if<ir::Call>(&node)) return call(*n);
    return std::nullopt;
  }

 private:
  [[nodiscard]] Range binary(const ir::Binary& n) const {
    const Range a = of(n.lhs);
    const Range b = of(n.rhs);
    switch (n.op) {
      case ir::BinaryOp::Add: return corners(a, b, kAdd);
      case ir::BinaryOp::Sub: return corners(a, b, kSub);
      case ir::BinaryOp::Mul: return corners(a, b, kMul);
      case ir::BinaryOp::Div:
      case ir::BinaryOp::Mod: return within_magnitude_of(a);
      default: return std::nullopt;
    }
  }

  [[nodiscard]] Range call(const ir::Call& n) const {
    std::vector<Range> args;
    for (const ir::ExprPtr& arg : n.args) args.push_back(of(arg));
    switch (n.func) {
      case ir::Func::Abs: {
        const Range magnitude = within_magnitude_of(args[0]);
        return magnitude ? Range(IntRange{0, magnitude->hi}) : std::nullopt;
      }
      case ir::Func::Min:
      case ir::Func::Max:
      case ir::Func::Clamp: {
        // Every result is one of the arguments.
        Range out = args[0];
        for (const Range& arg : args) out = hull(out, arg);
        return out;
      }
      default: return std::nullopt;
    }
  }

  const Variant& variant_;
};

}  // namespace

std::optional<IntRange> int_range(const ir::ExprPtr& expr, const Variant& variant) {
  if (expr == nullptr || expr->type() != ir::Type::Int) return std::nullopt;
  return Ranges(variant).of(expr);
}

bool fits_int32(const ir::ExprPtr& expr, const Variant& variant) {
  const Range range = int_range(expr, variant);
  if (!range || range->lo < kInt32.lo || range->hi > kInt32.hi) return false;
  // A node can fit where an operand does not (x * 0): every int operand must.
  const auto operand_fits = [&](const ir::ExprPtr& operand) {
    return operand->type() != ir::Type::Int || fits_int32(operand, variant);
  };
  const ir::Node& node = expr->node();
  if (const auto* n = std::get_if<ir::Unary>(&node)) return operand_fits(n->operand);
  if (const auto* n = std::get_if<ir::Binary>(&node)) {
    return operand_fits(n->lhs) && operand_fits(n->rhs);
  }
  if (const auto* n = std::get_if<ir::Select>(&node)) {
    return operand_fits(n->if_true) && operand_fits(n->if_false);
  }
  if (const auto* n = std::get_if<ir::Call>(&node)) {
    return std::all_of(n->args.begin(), n->args.end(), operand_fits);
  }
  return true;
}

}  // namespace attnjit::codegen
