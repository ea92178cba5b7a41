#include "codegen/key_steps.hpp"

#include "codegen/expr_weight.hpp"

namespace attnjit::codegen {

std::optional<std::int64_t> key_coefficient(const ir::ExprPtr& expr) {
  if (!uses_builtin(expr, ir::Builtin::K)) return 0;
  if (expr->as<ir::BuiltinRef>() != nullptr) return 1;  // k itself
  if (const auto* unary = expr->as<ir::Unary>()) {
    const std::optional<std::int64_t> c = key_coefficient(unary->operand);
    if (!c || unary->op != ir::UnaryOp::Neg) return std::nullopt;
    std::int64_t negated = 0;
    if (__builtin_sub_overflow(std::int64_t{0}, *c, &negated)) return std::nullopt;
    return negated;
  }
  const auto* binary = expr->as<ir::Binary>();
  if (binary == nullptr) return std::nullopt;
  const std::optional<std::int64_t> lhs = key_coefficient(binary->lhs);
  const std::optional<std::int64_t> rhs = key_coefficient(binary->rhs);
  if (!lhs || !rhs) return std::nullopt;
  std::int64_t out = 0;
  bool wrapped = true;
  switch (binary->op) {
    case ir::BinaryOp::Add: wrapped = __builtin_add_overflow(*lhs, *rhs, &out); break;
    case ir::BinaryOp::Sub: wrapped = __builtin_sub_overflow(*lhs, *rhs, &out); break;
    case ir::BinaryOp::Mul: {
      const auto* lhs_literal = binary->lhs->as<ir::IntConst>();
      const auto* rhs_literal = binary->rhs->as<ir::IntConst>();
      if (rhs_literal != nullptr) wrapped = __builtin_mul_overflow(*lhs, rhs_literal->value, &out);
      if (lhs_literal != nullptr) wrapped = __builtin_mul_overflow(*rhs, lhs_literal->value, &out);
      break;
    }
    default: break;
  }
  if (wrapped) return std::nullopt;
  return out;
}

}  // namespace attnjit::codegen
