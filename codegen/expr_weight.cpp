#include "codegen/expr_weight.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

namespace attnjit::codegen {

bool heavy_code(const ir::ExprPtr& expr) {
  if (expr == nullptr) return false;
  return std::visit(
      [](const auto& node) {
        using T = std::decay_t<decltype(node)>;
        if constexpr (std::is_same_v<T, ir::TensorRead>) {
          return true;
        } else if constexpr (std::is_same_v<T, ir::Binary>) {
          return node.op == ir::BinaryOp::Div || node.op == ir::BinaryOp::Mod ||
                 heavy_code(node.lhs) || heavy_code(node.rhs);
        } else if constexpr (std::is_same_v<T, ir::Unary>) {
          return heavy_code(node.operand);
        } else if constexpr (std::is_same_v<T, ir::Select>) {
          return heavy_code(node.cond) || heavy_code(node.if_true) || heavy_code(node.if_false);
        } else if constexpr (std::is_same_v<T, ir::Call>) {
          return std::any_of(node.args.begin(), node.args.end(), heavy_code);
        } else if constexpr (std::is_same_v<T, ir::IntToFloat>) {
          return heavy_code(node.operand);
        } else {
          return false;
        }
      },
      expr->node());
}

bool reads_tensors(const ir::ExprPtr& expr) {
  if (expr == nullptr) return false;
  return std::visit(
      [](const auto& node) {
        using T = std::decay_t<decltype(node)>;
        if constexpr (std::is_same_v<T, ir::TensorRead>) {
          return true;
        } else if constexpr (std::is_same_v<T, ir::Binary>) {
          return reads_tensors(node.lhs) || reads_tensors(node.rhs);
        } else if constexpr (std::is_same_v<T, ir::Unary> || std::is_same_v<T, ir::IntToFloat>) {
          return reads_tensors(node.operand);
        } else if constexpr (std::is_same_v<T, ir::Select>) {
          return reads_tensors(node.cond) || reads_tensors(node.if_true) ||
                 reads_tensors(node.if_false);
        } else if constexpr (std::is_same_v<T, ir::Call>) {
          return std::any_of(node.args.begin(), node.args.end(), reads_tensors);
        } else {
          return false;
        }
      },
      expr->node());
}

}  // namespace attnjit::codegen
