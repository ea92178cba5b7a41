#include "codegen/expr_weight.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

namespace attnjit::codegen {
namespace {

// Whether `matches` holds for any node of the tree under `expr`.
template <class Matches>
bool any_node(const ir::ExprPtr& expr, const Matches& matches) {
  if (expr == nullptr) return false;
  if (matches(*expr)) return true;
  const auto below = [&](const ir::ExprPtr& child) { return any_node(child, matches); };
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
        } else {
          return false;
        }
      },
      expr->node());
}

bool is_tensor_read(const ir::Expr& expr) { return expr.as<ir::TensorRead>() != nullptr; }

}  // namespace

bool heavy_code(const ir::ExprPtr& expr) {
  return any_node(expr, [](const ir::Expr& node) {
    const auto* binary = node.as<ir::Binary>();
    return is_tensor_read(node) || (binary != nullptr && (binary->op == ir::BinaryOp::Div ||
                                                          binary->op == ir::BinaryOp::Mod));
  });
}

bool reads_tensors(const ir::ExprPtr& expr) { return any_node(expr, is_tensor_read); }

}  // namespace attnjit::codegen
