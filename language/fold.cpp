#include "language/fold.hpp"

#include "language/semantics.hpp"

#include <cmath>
#include <optional>
#include <vector>

namespace attnjit {
namespace {

using ir::ExprPtr;

std::optional<std::int64_t> int_of(const ExprPtr& expr) {
  if (const auto* c = expr->as<ir::IntConst>()) return c->value;
  return std::nullopt;
}
std::optional<float> float_of(const ExprPtr& expr) {
  if (const auto* c = expr->as<ir::FloatConst>()) return c->value;
  return std::nullopt;
}
std::optional<bool> bool_of(const ExprPtr& expr) {
  if (const auto* c = expr->as<ir::BoolConst>()) return c->value;
  return std::nullopt;
}
bool is_const(const ExprPtr& expr) { return int_of(expr) || float_of(expr) || bool_of(expr); }

// Non-finite floats have no literal spelling, so they stay unfolded.
std::optional<ExprPtr> float_result(double value) {
  const auto narrow = static_cast<float>(value);
  if (!std::isfinite(narrow)) return std::nullopt;
  return ir::float_const(narrow);
}

ExprPtr fold_unary(const ir::Unary& node) {
  const ExprPtr operand = fold(node.operand);
  if (node.op == ir::UnaryOp::Not) {
    if (auto value = bool_of(operand)) return ir::bool_const(!*value);
    if (const auto* inner = operand->as<ir::Unary>()) return inner->operand;
  } else {
    if (auto value = int_of(operand)) return ir::int_const(semantics::neg(*value));
    if (auto value = float_of(operand)) return ir::float_const(-*value);
  }
  return ir::unary(node.op, operand);
}

// Conjunctions and disjunctions with a known side; operands have no side
// effects (tensor reads are bounds-safe), so either side may decide.
std::optional<ExprPtr> fold_logical(ir::BinaryOp op, const ExprPtr& lhs, const ExprPtr& rhs) {
  const bool absorbing = op == ir::BinaryOp::Or;
  for (const auto& [known, other] : {std::pair{lhs, rhs}, std::pair{rhs, lhs}}) {
    if (auto value = bool_of(known)) {
      return *value == absorbing ? ir::bool_const(absorbing) : other;
    }
  }
  return std::nullopt;
}

std::optional<ExprPtr> fold_constants(ir::BinaryOp op, const ExprPtr& lhs, const ExprPtr& rhs) {
  if (auto a = int_of(lhs)) {
    const std::int64_t b = *int_of(rhs);
    if (semantics::is_comparison(op)) return ir::bool_const(semantics::compare(op, *a, b));
    return ir::int_const(semantics::int_binary(op, *a, b));
  }
  if (auto a = float_of(lhs)) {
    const float b = *float_of(rhs);
    if (semantics::is_comparison(op)) return ir::bool_const(semantics::compare(op, *a, b));
    return float_result(semantics::float_binary(op, *a, b));
  }
  return ir::bool_const(semantics::compare(op, *bool_of(lhs), *bool_of(rhs)));
}

ExprPtr fold_binary(const ir::Binary& node) {
  const ExprPtr lhs = fold(node.lhs);
  const ExprPtr rhs = fold(node.rhs);
  if (semantics::is_logical(node.op)) {
    if (auto folded = fold_logical(node.op, lhs, rhs)) return *folded;
  } else if (is_const(lhs) && is_const(rhs)) {
    if (auto folded = fold_constants(node.op, lhs, rhs)) return *folded;
  }
  return ir::binary(node.op, lhs, rhs);
}

ExprPtr fold_call(const ir::Call& node) {
  std::vector<ExprPtr> args;
  args.reserve(node.args.size());
  bool constant = true;
  for (const ExprPtr& arg : node.args) {
    args.push_back(fold(arg));
    constant = constant && is_const(args.back());
  }
  if (constant) {
    if (args.front()->type() == ir::Type::Int) {
      std::vector<std::int64_t> values;
      for (const ExprPtr& arg : args) values.push_back(*int_of(arg));
      return ir::int_const(semantics::int_call(node.func, values));
    }
    // Computed in double and rounded once: the correctly rounded float result
    // in all but pathological cases, and the same on every machine.
    std::vector<double> values;
    for (const ExprPtr& arg : args) values.push_back(*float_of(arg));
    if (auto folded = float_result(semantics::float_call<double>(node.func, values))) {
      return *folded;
    }
  }
  return ir::call(node.func, std::move(args));
}

}  // namespace

ExprPtr fold(const ExprPtr& expr) {
  const ir::Node& node = expr->node();
  if (const auto* n = std::get_if<ir::Unary>(&node)) return fold_unary(*n);
  if (const auto* n = std::get_if<ir::Binary>(&node)) return fold_binary(*n);
  if (const auto* n = std::get_if<ir::Call>(&node)) return fold_call(*n);
  if (const auto* n = std::get_if<ir::Select>(&node)) {
    const ExprPtr cond = fold(n->cond);
    if (auto value = bool_of(cond)) return fold(*value ? n->if_true : n->if_false);
    return ir::select(cond, fold(n->if_true), fold(n->if_false));
  }
  if (const auto* n = std::get_if<ir::IntToFloat>(&node)) {
    const ExprPtr operand = fold(n->operand);
    if (auto value = int_of(operand)) return ir::float_const(static_cast<float>(*value));
    return ir::to_float(operand);
  }
  if (const auto* n = std::get_if<ir::TensorRead>(&node)) {
    std::vector<ExprPtr> indices;
    indices.reserve(n->indices.size());
    for (const ExprPtr& index : n->indices) indices.push_back(fold(index));
    return ir::tensor_read(n->name, expr->type(), std::move(indices));
  }
  return expr;
}

}  // namespace attnjit
