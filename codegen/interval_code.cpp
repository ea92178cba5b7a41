#include "codegen/interval_code.hpp"

#include "codegen/device_expr.hpp"
#include "codegen/expr_weight.hpp"
#include "codegen/int_range.hpp"

#include <cstdint>
#include <limits>
#include <optional>

#include <fmt/format.h>

namespace attnjit::codegen {
namespace {

using ir::BinaryOp;
using ir::Type;

// A float value over a tile is not tracked: it is always "unknown".
constexpr std::string_view kUnknownFloat = "<float>";

class Emitter {
 public:
  Emitter(const Variant& variant, std::string_view indent) : variant_(variant), indent_(indent) {}

  std::string emit(const ir::ExprPtr& expr) {
    if (expr->type() == Type::Float) return std::string(kUnknownFloat);
    return bind(expr->type(), value(expr));
  }
  [[nodiscard]] const std::string& code() const { return code_; }
  void append(const std::string& line) { code_ += line; }

 private:
  std::string bind(Type type, const std::string& value) {
    std::string name = fmt::format("t{}", next_++);
    code_ += fmt::format("{}const aj::{} {} = {};\n", indent_, type == Type::Int ? "IvI" : "IvB",
                         name, value);
    return name;
  }

  static std::string unknown(Type type) {
    return type == Type::Int ? "aj::iv_unknown()" : "aj::iv_bool_unknown()";
  }

  std::string builtin(ir::Builtin which) {
    switch (which) {
      case ir::Builtin::Q: return "aj::iv_range(tile.q0, tile.q1)";
      case ir::Builtin::K: return "aj::iv_range(tile.k0, tile.k1)";
      case ir::Builtin::Causal: {
        const std::string q = bind(Type::Int, builtin(ir::Builtin::Q));
        const std::string k = bind(Type::Int, builtin(ir::Builtin::K));
        return fmt::format(
            "aj::iv_ge(aj::iv_sub(aj::iv_add({}, aj::iv_point(tile.at.kv_len)), "
            "aj::iv_point(tile.at.q_len)), {})",
            q, k);
      }
      default: return fmt::format("aj::iv_point(tile.at.{})", ir::builtin_name(which));
    }
  }

  [[nodiscard]] bool narrow(const ir::Binary& node) const {
    auto fits = [&](const ir::ExprPtr& e) {
      const std::optional<IntRange> range = int_range(e, variant_);
      return range && range->lo >= std::numeric_limits<std::int32_t>::min() &&
             range->hi <= std::numeric_limits<std::int32_t>::max();
    };
    return fits(node.lhs) && fits(node.rhs);
  }

  // An operand whose value cannot matter where `guard` fails over the whole
  // tile reads nothing then.
  std::string emit_guarded(const ir::ExprPtr& expr, const std::string& guard) {
    const std::string outer = live_;
    live_ = fmt::format("{} && {}", outer, guard);
    std::string out = emit(expr);
    live_ = outer;
    return out;
  }

  std::string binary(const ir::Binary& node, Type type) {
    const std::string lhs = emit(node.lhs);
    const std::string rhs = node.op == BinaryOp::And  ? emit_guarded(node.rhs, lhs + ".can_true")
                            : node.op == BinaryOp::Or ? emit_guarded(node.rhs, lhs + ".can_false")
                                                      : emit(node.rhs);
    if (lhs == kUnknownFloat || rhs == kUnknownFloat) return unknown(type);
    const bool bools = node.lhs->type() == Type::Bool;
    switch (node.op) {
      case BinaryOp::Add: return fmt::format("aj::iv_add({}, {})", lhs, rhs);
      case BinaryOp::Sub: return fmt::format("aj::iv_sub({}, {})", lhs, rhs);
      case BinaryOp::Mul: return fmt::format("aj::iv_mul({}, {})", lhs, rhs);
      // Corner divisions in 32 bits where both sides fit (as device_expr).
      case BinaryOp::Div:
        return fmt::format("aj::iv_div{}({}, {})", narrow(node) ? "32" : "", lhs, rhs);
      case BinaryOp::Mod:
        return fmt::format("aj::iv_mod{}({}, {})", narrow(node) ? "32" : "", lhs, rhs);
      case BinaryOp::Lt: return fmt::format("aj::iv_lt({}, {})", lhs, rhs);
      case BinaryOp::Le: return fmt::format("aj::iv_le({}, {})", lhs, rhs);
      case BinaryOp::Gt: return fmt::format("aj::iv_gt({}, {})", lhs, rhs);
      case BinaryOp::Ge: return fmt::format("aj::iv_ge({}, {})", lhs, rhs);
      case BinaryOp::Eq: return fmt::format("aj::iv_{}eq({}, {})", bools ? "b" : "", lhs, rhs);
      case BinaryOp::Ne: return fmt::format("aj::iv_{}ne({}, {})", bools ? "b" : "", lhs, rhs);
      case BinaryOp::And: return fmt::format("aj::iv_and({}, {})", lhs, rhs);
      case BinaryOp::Or: return fmt::format("aj::iv_or({}, {})", lhs, rhs);
    }
    return unknown(type);
  }

  std::string call(const ir::Call& node, Type type) {
    std::vector<std::string> args;
    for (const ir::ExprPtr& arg : node.args) args.push_back(emit(arg));
    switch (node.func) {
      case ir::Func::Abs: return fmt::format("aj::iv_abs({})", args[0]);
      case ir::Func::Min: return fmt::format("aj::iv_min({}, {})", args[0], args[1]);
      case ir::Func::Max: return fmt::format("aj::iv_max({}, {})", args[0], args[1]);
      case ir::Func::Clamp:
        return fmt::format("aj::iv_clamp({}, {}, {})", args[0], args[1], args[2]);
      default: return unknown(type);
    }
  }

  std::string value(const ir::ExprPtr& expr) {
    const Type type = expr->type();
    const ir::Node& node = expr->node();
    if (const auto* n = std::get_if<ir::IntConst>(&node)) {
      return fmt::format("aj::iv_point({}LL)", n->value == INT64_MIN ? INT64_MIN + 1 : n->value);
    }
    if (const auto* n = std::get_if<ir::BoolConst>(&node)) {
      return fmt::format("aj::iv_bool({})", n->value);
    }
    if (const auto* n = std::get_if<ir::BuiltinRef>(&node)) return builtin(n->which);
    if (const auto* n = std::get_if<ir::ParamRef>(&node)) {
      return type == Type::Int ? fmt::format("aj::iv_point((long long)p.{})", field_name(n->name))
                               : fmt::format("aj::iv_bool(p.{})", field_name(n->name));
    }
    if (const auto* n = std::get_if<ir::Unary>(&node)) {
      const std::string operand = emit(n->operand);
      return fmt::format("aj::iv_{}({})", n->op == ir::UnaryOp::Neg ? "neg" : "not", operand);
    }
    if (const auto* n = std::get_if<ir::Binary>(&node)) return binary(*n, type);
    if (const auto* n = std::get_if<ir::Select>(&node)) {
      const std::string cond = emit(n->cond);
      const std::string if_true = emit_guarded(n->if_true, cond + ".can_true");
      const std::string if_false = emit_guarded(n->if_false, cond + ".can_false");
      return fmt::format("aj::iv_{}select({}, {}, {})", type == Type::Bool ? "b" : "", cond,
                         if_true, if_false);
    }
    if (const auto* n = std::get_if<ir::Call>(&node)) return call(*n, type);
    return read(std::get<ir::TensorRead>(node), type);
  }

  // The elements the indices reach over the tile, read when they are few.
  std::string read(const ir::TensorRead& node, Type type) {
    std::string indices;
    for (const ir::ExprPtr& index : node.indices) {
      indices += (indices.empty() ? "" : ", ") + emit(index);
    }
    const TensorDecl* tensor = variant_.find_tensor(node.name);
    if (type == Type::Bool) {
      return fmt::format("aj::iv_read_bool({}, p.{}, {{{}}})", live_, field_name(node.name),
                         indices);
    }
    return fmt::format("aj::iv_read<aj::{}>({}, p.{}, {{{}}})", tensor_tag(tensor->element), live_,
                       field_name(node.name), indices);
  }

  const Variant& variant_;
  std::string indent_;
  std::string code_;
  std::string live_ = "live";  // whether this tile's reads here are needed
  int next_ = 0;
};

}  // namespace

std::string interval_code(const ir::ExprPtr& mask, const Variant& variant,
                          std::string_view indent) {
  // The top-level conjuncts one by one, leaving as soon as one is false over
  // the whole tile: the rest (tensor scans, say) is not worth computing then.
  std::vector<ir::ExprPtr> conjuncts;
  std::vector<ir::ExprPtr> pending{mask};
  while (!pending.empty()) {
    const ir::ExprPtr expr = pending.back();
    pending.pop_back();
    const auto* both = expr->as<ir::Binary>();
    if (both != nullptr && both->op == BinaryOp::And) {
      pending.push_back(both->rhs);
      pending.push_back(both->lhs);
    } else {
      conjuncts.push_back(expr);
    }
  }
  Emitter emitter(variant, indent);
  std::string all;
  // A mask that reads tensors is classified by a warp of tiles that read
  // together (aj::iv_fold), so no lane may leave early: a lane whose tile is
  // empty goes on, no longer live, and its reads read nothing.
  const bool together = reads_tensors(mask);
  if (together) emitter.append(fmt::format("{}bool live = tile.live;\n", indent));
  for (const ir::ExprPtr& conjunct : conjuncts) {
    const std::string value = emitter.emit(conjunct);
    all = all.empty() ? value : fmt::format("aj::iv_and({}, {})", all, value);
    if (&conjunct == &conjuncts.back()) break;
    emitter.append(together
                       ? fmt::format("{}live = live && {}.can_true;\n", indent, value)
                       : fmt::format("{}if (!{}.can_true) return aj::kEmpty;\n", indent, value));
  }
  const std::string verdict = fmt::format("aj::classify_bool({})", all);
  return emitter.code() +
         fmt::format("{}return {};\n", indent,
                     together ? fmt::format("live ? {} : aj::kEmpty", verdict) : verdict);
}

}  // namespace attnjit::codegen
