// Questions about an expression that code generation hangs choices on: how
// much code it becomes (code size against speed), what it reads.
#pragma once

#include <attnjit/ir.hpp>

#include <set>
#include <type_traits>
#include <variant>

namespace attnjit::codegen {

// Whether the device code for `expr`, or its interval code, is large and
// register-hungry: tensor reads at indices that vary per element (document
// ids, bucket tables) and 64-bit divisions make it so. Comparisons and sums
// of indices do not, nor reads at fixed indices (a slope per head).
bool heavy_code(const ir::ExprPtr& expr);
// The same, with the subexpressions in `computed` (values computed
// elsewhere, such as mask parts) counted as plain values.
bool heavy_code(const ir::ExprPtr& expr, const std::set<const ir::Expr*>& computed);

// Whether `expr` divides (or takes a remainder) by anything but a constant:
// a constant divisor is a multiply and a shift, a run-time one ten
// instructions and more.
bool divides_by_variable(const ir::ExprPtr& expr);

// Whether `expr` reads a tensor anywhere.
bool reads_tensors(const ir::ExprPtr& expr);

// Whether `expr` names the builtin `which` anywhere, tensor indices included.
bool uses_builtin(const ir::ExprPtr& expr, ir::Builtin which);

// Calls `visit` on each direct child of `expr`: operands, call arguments and
// tensor indices.
template <class Visit>
void for_each_child(const ir::ExprPtr& expr, const Visit& visit) {
  std::visit(
      [&](const auto& node) {
        using T = std::decay_t<decltype(node)>;
        if constexpr (std::is_same_v<T, ir::Binary>) {
          visit(node.lhs);
          visit(node.rhs);
        } else if constexpr (std::is_same_v<T, ir::Unary> || std::is_same_v<T, ir::IntToFloat>) {
          visit(node.operand);
        } else if constexpr (std::is_same_v<T, ir::Select>) {
          visit(node.cond);
          visit(node.if_true);
          visit(node.if_false);
        } else if constexpr (std::is_same_v<T, ir::Call>) {
          for (const ir::ExprPtr& arg : node.args) visit(arg);
        } else if constexpr (std::is_same_v<T, ir::TensorRead>) {
          for (const ir::ExprPtr& index : node.indices) visit(index);
        }
      },
      expr->node());
}

}  // namespace attnjit::codegen
