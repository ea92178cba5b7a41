#include "codegen/score_terms.hpp"

#include "codegen/expr_weight.hpp"

#include <vector>

namespace attnjit::codegen {
namespace {

struct Term {
  ir::ExprPtr expr;
  bool negated = false;
};

void collect_terms(const ir::ExprPtr& expr, bool negated, std::vector<Term>& out) {
  if (const auto* sum = expr->as<ir::Binary>();
      sum != nullptr && (sum->op == ir::BinaryOp::Add || sum->op == ir::BinaryOp::Sub)) {
    collect_terms(sum->lhs, negated, out);
    collect_terms(sum->rhs, negated != (sum->op == ir::BinaryOp::Sub), out);
    return;
  }
  if (const auto* neg = expr->as<ir::Unary>(); neg != nullptr && neg->op == ir::UnaryOp::Neg) {
    collect_terms(neg->operand, !negated, out);
    return;
  }
  out.push_back({expr, negated});
}

bool is_score(const ir::ExprPtr& expr) {
  const auto* ref = expr->as<ir::BuiltinRef>();
  return ref != nullptr && ref->which == ir::Builtin::Score;
}

}  // namespace

std::optional<ir::ExprPtr> additive_bias(const ir::ExprPtr& score) {
  std::vector<Term> terms;
  collect_terms(score, false, terms);
  int scores = 0;
  ir::ExprPtr bias;
  for (const Term& term : terms) {
    if (is_score(term.expr) && !term.negated) {
      ++scores;
      continue;
    }
    if (uses_builtin(term.expr, ir::Builtin::Score)) return std::nullopt;
    if (!bias) {
      bias = term.negated ? ir::unary(ir::UnaryOp::Neg, term.expr) : term.expr;
    } else {
      bias = ir::binary(term.negated ? ir::BinaryOp::Sub : ir::BinaryOp::Add, bias, term.expr);
    }
  }
  if (scores != 1 || !bias) return std::nullopt;
  return bias;
}

}  // namespace attnjit::codegen
