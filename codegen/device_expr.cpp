#include "codegen/device_expr.hpp"

#include "codegen/expr_weight.hpp"
#include "codegen/int_range.hpp"
#include "codegen/key_steps.hpp"
#include <attnjit/error.hpp>

#include <limits>
#include <set>

#include <fmt/format.h>

namespace attnjit::codegen {
namespace {

using ir::BinaryOp;
using ir::Type;

std::string int_literal(std::int64_t value) {
  if (value == std::numeric_limits<std::int64_t>::min()) return "(-9223372036854775807LL - 1LL)";
  return value < 0 ? fmt::format("({}LL)", value) : fmt::format("{}LL", value);
}

std::string int32_literal(std::int64_t value) {
  if (value == std::numeric_limits<std::int32_t>::min()) return "(-2147483647 - 1)";
  return value < 0 ? fmt::format("({})", value) : fmt::format("{}", value);
}

// Sizes and indices are below 2^30 (int_range.hpp), so causal's sum fits int32.
std::string builtin_name_in_code(ir::Builtin which) {
  switch (which) {
    case ir::Builtin::Score: return "score";
    case ir::Builtin::Causal: return "((int)ix.q + (int)ix.kv_len - (int)ix.q_len >= (int)ix.k)";
    default: return fmt::format("ix.{}", ir::builtin_name(which));
  }
}

class Printer {
 public:
  Printer(const Variant& variant, const NamedExprs& named, std::string_view key_step)
      : variant_(variant), named_(named), key_step_(key_step) {
    for (const auto& entry : named) computed_.insert(entry.first);
  }
  [[nodiscard]] std::string print(const ir::ExprPtr& expr) const;
  [[nodiscard]] std::string times(const ir::ExprPtr& expr, std::string_view factor) const;

 private:
  [[nodiscard]] std::string args(const std::vector<ir::ExprPtr>& list) const;
  [[nodiscard]] std::string binary(const ir::Binary& node) const;
  [[nodiscard]] std::string call(const ir::Call& node, Type type) const;
  [[nodiscard]] std::string read(const ir::TensorRead& node) const;
  // at_lane: with k - key_step_ for k, the value at the lane's first key.
  [[nodiscard]] std::string print_int32(const ir::ExprPtr& expr, bool at_lane = false) const;
  [[nodiscard]] std::string to_float(const ir::ExprPtr& operand) const;
  [[nodiscard]] std::optional<std::int64_t> stepped(const ir::ExprPtr& operand) const;
  [[nodiscard]] std::string row_times(const std::string& row, const ir::ExprPtr& other) const;
  [[nodiscard]] bool fits_int32(const ir::ExprPtr& expr) const;  // its value
  [[nodiscard]] bool narrow(const ir::Binary& node) const;       // both operands' values

  const Variant& variant_;
  const NamedExprs& named_;
  std::string_view key_step_;           // device_expr's key_step
  std::set<const ir::Expr*> computed_;  // named_'s expressions: values, not code
};

std::string Printer::args(const std::vector<ir::ExprPtr>& list) const {
  std::string out;
  for (const ir::ExprPtr& arg : list) {
    if (!out.empty()) out += ", ";
    out += print(arg);
  }
  return out;
}

bool Printer::fits_int32(const ir::ExprPtr& expr) const {
  const std::optional<IntRange> range = int_range(expr, variant_);
  return range && range->lo >= std::numeric_limits<std::int32_t>::min() &&
         range->hi <= std::numeric_limits<std::int32_t>::max();
}

bool Printer::narrow(const ir::Binary& node) const {
  return fits_int32(node.lhs) && fits_int32(node.rhs);
}

std::string Printer::binary(const ir::Binary& node) const {
  if (!key_step_.empty() && node.op == BinaryOp::Mul && node.lhs->type() == Type::Float) {
    if (!uses_builtin(node.lhs, ir::Builtin::K)) return row_times(print(node.lhs), node.rhs);
    if (!uses_builtin(node.rhs, ir::Builtin::K)) return row_times(print(node.rhs), node.lhs);
  }
  const std::string lhs = print(node.lhs);
  const std::string rhs = print(node.rhs);
  if (node.lhs->type() == Type::Int) {
    switch (node.op) {
      case BinaryOp::Add: return fmt::format("aj::add({}, {})", lhs, rhs);
      case BinaryOp::Sub: return fmt::format("aj::sub({}, {})", lhs, rhs);
      case BinaryOp::Mul: return fmt::format("aj::mul({}, {})", lhs, rhs);
      // In 32 bits a division is a short inline sequence; in 64 a long one
      // or a call, whose register saves spill in a loaded loop.
      case BinaryOp::Div:
        return fmt::format("aj::div{}({}, {})", narrow(node) ? "32" : "", lhs, rhs);
      case BinaryOp::Mod:
        return fmt::format("aj::mod{}({}, {})", narrow(node) ? "32" : "", lhs, rhs);
      default: break;
    }
  }
  // Both sides of a light && or || are cheap and have no effects, so both
  // are computed and joined as bits: short-circuit code for a mask unrolled
  // over a tile became branches and bools kept in registers as bytes.
  if ((node.op == BinaryOp::And || node.op == BinaryOp::Or) && !heavy_code(node.rhs, computed_)) {
    return fmt::format("({} {} {})", lhs, node.op == BinaryOp::And ? "&" : "|", rhs);
  }
  return fmt::format("({} {} {})", lhs, ir::binary_spelling(node.op), rhs);
}

std::string Printer::call(const ir::Call& node, Type type) const {
  const std::string list = args(node.args);
  if (type == Type::Int) {
    switch (node.func) {
      case ir::Func::Abs: return fmt::format("aj::iabs({})", list);
      case ir::Func::Min: return fmt::format("aj::imin({})", list);
      case ir::Func::Max: return fmt::format("aj::imax({})", list);
      default: return fmt::format("aj::iclamp({})", list);
    }
  }
  switch (node.func) {
    case ir::Func::Abs: return fmt::format("fabsf({})", list);
    case ir::Func::Min: return fmt::format("fminf({})", list);
    case ir::Func::Max: return fmt::format("fmaxf({})", list);
    case ir::Func::Clamp: return fmt::format("aj::fclamp({})", list);
    case ir::Func::Exp: return fmt::format("expf({})", list);
    case ir::Func::Exp2: return fmt::format("exp2f({})", list);
    case ir::Func::Log: return fmt::format("logf({})", list);
    case ir::Func::Log2: return fmt::format("log2f({})", list);
    case ir::Func::Sqrt: return fmt::format("sqrtf({})", list);
    case ir::Func::Rsqrt: return fmt::format("aj::frsqrt({})", list);
    case ir::Func::Tanh: return fmt::format("tanhf({})", list);
    case ir::Func::Sigmoid: return fmt::format("aj::sigmoid({})", list);
    case ir::Func::Floor: return fmt::format("floorf({})", list);
    case ir::Func::Ceil: return fmt::format("ceilf({})", list);
    case ir::Func::Softcap: return fmt::format("aj::softcap({})", list);
  }
  return "0";
}

std::string Printer::read(const ir::TensorRead& node) const {
  const TensorDecl* tensor = variant_.find_tensor(node.name);
  return fmt::format("aj::read<aj::{}>(p.{}, {})", tensor_tag(tensor->element),
                     field_name(node.name), args(node.indices));
}

// An int expression whose every step fits int32 (int_range.hpp), in 32-bit
// arithmetic: half the instructions of 64-bit ones and no register pairs,
// which is most of the cost of a mask evaluated per element of a tile.
// Plain operators, as nothing can overflow.
std::string Printer::print_int32(const ir::ExprPtr& expr, bool at_lane) const {
  if (const auto it = named_.find(expr.get()); it != named_.end()) {
    return fmt::format("(int){}", it->second);
  }
  const ir::Node& node = expr->node();
  if (const auto* n = std::get_if<ir::IntConst>(&node)) return int32_literal(n->value);
  if (const auto* n = std::get_if<ir::BuiltinRef>(&node)) {
    if (at_lane && n->which == ir::Builtin::K) return fmt::format("((int)ix.k - {})", key_step_);
    return fmt::format("(int)ix.{}", ir::builtin_name(n->which));
  }
  if (const auto* n = std::get_if<ir::ParamRef>(&node)) {
    return fmt::format("(int)p.{}", field_name(n->name));
  }
  if (const auto* n = std::get_if<ir::TensorRead>(&node)) return fmt::format("(int){}", read(*n));
  if (const auto* n = std::get_if<ir::Unary>(&node)) {
    return fmt::format("(-{})", print_int32(n->operand, at_lane));
  }
  if (const auto* n = std::get_if<ir::Binary>(&node)) {
    const std::string lhs = print_int32(n->lhs, at_lane);
    const std::string rhs = print_int32(n->rhs, at_lane);
    switch (n->op) {
      case BinaryOp::Div: return fmt::format("(int)aj::div32({}, {})", lhs, rhs);
      case BinaryOp::Mod: return fmt::format("(int)aj::mod32({}, {})", lhs, rhs);
      default: return fmt::format("({} {} {})", lhs, ir::binary_spelling(n->op), rhs);
    }
  }
  if (const auto* n = std::get_if<ir::Select>(&node)) {
    return fmt::format("({} ? {} : {})", print(n->cond), print_int32(n->if_true, at_lane),
                       print_int32(n->if_false, at_lane));
  }
  const auto& call = std::get<ir::Call>(node);
  std::string list;
  for (const ir::ExprPtr& arg : call.args) {
    list += (list.empty() ? "" : ", ") + print_int32(arg, at_lane);
  }
  switch (call.func) {
    case ir::Func::Abs: return fmt::format("aj::iabs32({})", list);
    case ir::Func::Min: return fmt::format("aj::imin32({})", list);
    case ir::Func::Max: return fmt::format("aj::imax32({})", list);
    default: return fmt::format("aj::iclamp32({})", list);
  }
}

std::string Printer::print(const ir::ExprPtr& expr) const {
  if (expr->type() == Type::Int && codegen::fits_int32(expr, variant_)) return print_int32(expr);
  if (const auto it = named_.find(expr.get()); it != named_.end()) return it->second;
  const ir::Node& node = expr->node();
  if (const auto* n = std::get_if<ir::IntConst>(&node)) return int_literal(n->value);
  if (const auto* n = std::get_if<ir::FloatConst>(&node)) {
    return n->value < 0 ? "(" + float_literal(n->value) + ")" : float_literal(n->value);
  }
  if (const auto* n = std::get_if<ir::BoolConst>(&node)) return n->value ? "true" : "false";
  if (const auto* n = std::get_if<ir::BuiltinRef>(&node)) return builtin_name_in_code(n->which);
  if (const auto* n = std::get_if<ir::ParamRef>(&node)) {
    return expr->type() == Type::Int ? fmt::format("(long long)p.{}", field_name(n->name))
                                     : "p." + field_name(n->name);
  }
  if (const auto* n = std::get_if<ir::TensorRead>(&node)) return read(*n);
  if (const auto* n = std::get_if<ir::Unary>(&node)) {
    const std::string operand = print(n->operand);
    if (n->op == ir::UnaryOp::Not) return fmt::format("(!{})", operand);
    return expr->type() == Type::Int ? fmt::format("aj::neg({})", operand)
                                     : fmt::format("(-{})", operand);
  }
  if (const auto* n = std::get_if<ir::Binary>(&node)) return binary(*n);
  if (const auto* n = std::get_if<ir::Select>(&node)) {
    return fmt::format("({} ? {} : {})", print(n->cond), print(n->if_true), print(n->if_false));
  }
  if (const auto* n = std::get_if<ir::Call>(&node)) return call(*n, expr->type());
  return to_float(std::get<ir::IntToFloat>(node).operand);
}

// Most ints converted in scores are index differences (ALiBi's k - q): in 32
// bits they need no register pairs (prelude.cuh, int32_to_float). Where the
// caller steps through keys (key_step_) and the int is linear in k, it is
// converted once per row at the lane's first key and each element adds its
// step as a float: a float add per element instead of a conversion, exact
// below 2^24 and within an ulp above. Negation, abs, min, max and clamp
// commute with rounding to float (it is monotone and symmetric), so they are
// taken outside the conversion to reach the linear part (|k - q|, say).
std::string Printer::to_float(const ir::ExprPtr& operand) const {
  if (!fits_int32(operand)) return fmt::format("(float)({})", print(operand));
  if (key_step_.empty() || !uses_builtin(operand, ir::Builtin::K)) {
    return fmt::format("aj::int32_to_float({})", print(operand));
  }
  if (const auto* unary = operand->as<ir::Unary>()) {
    return fmt::format("(-{})", to_float(unary->operand));
  }
  if (const auto* call = operand->as<ir::Call>()) {
    std::string list;
    for (const ir::ExprPtr& arg : call->args) list += (list.empty() ? "" : ", ") + to_float(arg);
    switch (call->func) {
      case ir::Func::Abs: return fmt::format("fabsf({})", list);
      case ir::Func::Min: return fmt::format("fminf({})", list);
      case ir::Func::Max: return fmt::format("fmaxf({})", list);
      default: return fmt::format("aj::fclamp({})", list);
    }
  }
  const std::optional<std::int64_t> coefficient = stepped(operand);
  if (!coefficient) return fmt::format("aj::int32_to_float({})", print(operand));
  return fmt::format("(aj::int32_to_float({}) + (float)({} * {}))",
                     print_int32(operand, /*at_lane=*/true), int32_literal(*coefficient),
                     key_step_);
}

// The coefficient of k in an int that to_float converts once per row.
std::optional<std::int64_t> Printer::stepped(const ir::ExprPtr& operand) const {
  if (key_step_.empty() || !fits_int32(operand) || !uses_builtin(operand, ir::Builtin::K)) {
    return std::nullopt;
  }
  return key_coefficient(operand);
}

// row * other, `row` the code of a value free of k. A stepped conversion
// (ALiBi's slope * (k - q)) becomes one FFMA per element on two values per
// row: row * int(at the lane's first key) + row * step.
std::string Printer::row_times(const std::string& row, const ir::ExprPtr& other) const {
  if (const auto* cast = other->as<ir::IntToFloat>()) {
    if (const std::optional<std::int64_t> coefficient = stepped(cast->operand)) {
      return fmt::format("fmaf({0}, (float)({1} * {2}), {0} * aj::int32_to_float({3}))", row,
                         int32_literal(*coefficient), key_step_,
                         print_int32(cast->operand, /*at_lane=*/true));
    }
  }
  return fmt::format("({} * {})", row, print(other));
}

// expr * factor, the factor taken into the terms' parts free of k, which are
// computed once per row, rather than multiplied per element.
std::string Printer::times(const ir::ExprPtr& expr, std::string_view factor) const {
  if (computed_.contains(expr.get())) return fmt::format("({} * {})", print(expr), factor);
  if (const auto* n = expr->as<ir::Binary>(); n != nullptr && expr->type() == Type::Float) {
    if (n->op == BinaryOp::Add || n->op == BinaryOp::Sub) {
      return fmt::format("({} {} {})", times(n->lhs, factor), ir::binary_spelling(n->op),
                         times(n->rhs, factor));
    }
    if (n->op == BinaryOp::Mul && !uses_builtin(n->lhs, ir::Builtin::K)) {
      return row_times(fmt::format("({} * {})", print(n->lhs), factor), n->rhs);
    }
    if (n->op == BinaryOp::Mul && !uses_builtin(n->rhs, ir::Builtin::K)) {
      return row_times(fmt::format("({} * {})", print(n->rhs), factor), n->lhs);
    }
  }
  if (const auto* n = expr->as<ir::Unary>(); n != nullptr && expr->type() == Type::Float) {
    return fmt::format("(-{})", times(n->operand, factor));
  }
  return fmt::format("({} * {})", print(expr), factor);
}

}  // namespace

std::string c_type(ir::Type type) {
  switch (type) {
    case Type::Int: return "long long";
    case Type::Float: return "float";
    case Type::Bool: return "bool";
  }
  return "long long";
}

std::string tensor_tag(ElemType element) {
  switch (element) {
    case ElemType::I32: return "I32";
    case ElemType::F32: return "F32";
    case ElemType::F16: return "F16";
    case ElemType::BF16: return "BF16";
    case ElemType::U8: return "U8";
    case ElemType::Bool: return "Bool";
    case ElemType::F8E4M3:
    case ElemType::F8E5M2: break;  // the language refuses fp8 tensors
  }
  throw SpecError(fmt::format("a tensor cannot be {}", elem_type_name(element)));
}

std::string field_name(std::string_view name) { return fmt::format("u_{}", name); }

std::string float_literal(float value) { return fmt::format("{:a}f", value); }

std::string device_expr(const ir::ExprPtr& expr, const Variant& variant, const NamedExprs& named,
                        std::string_view key_step) {
  return Printer(variant, named, key_step).print(expr);
}

std::string device_expr_times(const ir::ExprPtr& expr, std::string_view factor,
                              const Variant& variant, const NamedExprs& named,
                              std::string_view key_step) {
  return Printer(variant, named, key_step).times(expr, factor);
}

}  // namespace attnjit::codegen
