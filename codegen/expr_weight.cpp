#include "codegen/expr_weight.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

namespace attnjit::codegen {
namespace {

// Whether `matches` holds for any node of the tree under `expr`, not looking
// inside the subtrees in `skipped`.
template <class Matches>
bool any_node(const ir::ExprPtr& expr, const Matches& matches,
              const std::set<const ir::Expr*>& skipped = {}) {
  if (expr == nullptr || skipped.contains(expr.get())) return false;
  if (matches(*expr)) return true;
  const auto below = [&](const ir::ExprPtr& child) { return any_node(child, matches, skipped); };
  return std::visit(
      [&](const auto& node) {
        using T = std::decay_t<decltype(node)>;
        if constexpr (std::is_same_v<T, ir::Binary>) {
          return below(node.lhs) || below(node.rhs);
        } else if constexpr (std::is_same_v<T, ir::Unary> || std::is_same_v<T, ir::IntToFloat>) {
          return below(node.operand);
        } else if constexpr (std::is_same_v<T, ir::Select>) {
          return below(node.cond) || below(node.if_true) || below(node.if_false);
        } else if constexpr (std::is_same_v<T, ir::Call>) {
          return std::any_of(node.args.begin(), node.args.end(), below);
        } else if constexpr (std::is_same_v<T, ir::TensorRead>) {
          return std::any_of(node.indices.begin(), node.indices.end(), below);
        } else {
          return false;
        }
      },
      expr->node());
}

bool is_tensor_read(const ir::Expr& expr) { return expr.as<ir::TensorRead>() != nullptr; }

}  // namespace

bool heavy_code(const ir::ExprPtr& expr) { return heavy_code(expr, {}); }

bool heavy_code(const ir::ExprPtr& expr, const std::set<const ir::Expr*>& computed) {
  const auto heavy_node = [](const ir::Expr& node) {
    if (const auto* read = node.as<ir::TensorRead>()) {
      // A gather per element; a read of fixed indices (slope[h]) is one per CTA.
      return std::any_of(read->indices.begin(), read->indices.end(), [](const ir::ExprPtr& i) {
        return uses_builtin(i, ir::Builtin::Q) || uses_builtin(i, ir::Builtin::K) ||
               uses_builtin(i, ir::Builtin::Causal);
      });
    }
    const auto* binary = node.as<ir::Binary>();
    return binary != nullptr &&
           (binary->op == ir::BinaryOp::Div || binary->op == ir::BinaryOp::Mod);
  };
  return any_node(expr, heavy_node, computed);
}

bool divides_by_variable(const ir::ExprPtr& expr) {
  return any_node(expr, [](const ir::Expr& node) {
    const auto* binary = node.as<ir::Binary>();
    return binary != nullptr &&
           (binary->op == ir::BinaryOp::Div || binary->op == ir::BinaryOp::Mod) &&
           binary->rhs->as<ir::IntConst>() == nullptr;
  });
}

bool reads_tensors(const ir::ExprPtr& expr) { return any_node(expr, is_tensor_read); }

bool uses_builtin(const ir::ExprPtr& expr, ir::Builtin which) {
  return any_node(expr, [which](const ir::Expr& node) {
    const auto* ref = node.as<ir::BuiltinRef>();
    return ref != nullptr && ref->which == which;
  });
}

}  // namespace attnjit::codegen
