#include "reference/interpreter.hpp"

#include "language/semantics.hpp"
#include <attnjit/error.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <variant>

#include <fmt/format.h>

namespace attnjit::reference {
namespace {

Value zero_of(ir::Type type) {
  switch (type) {
    case ir::Type::Int: return Value::of_int(0);
    case ir::Type::Float: return Value::of_float(0);
    case ir::Type::Bool: return Value::of_bool(false);
  }
  return {};
}

// The most arguments any function takes (clamp).
constexpr std::size_t kMaxArgs = 3;

class Evaluator {
 public:
  Evaluator(const Point& point, const Bindings& bindings) : point_(point), bindings_(bindings) {}

  Value operator()(const ir::Expr& expr) const {
    return std::visit([&](const auto& node) { return eval(node, expr.type()); }, expr.node());
  }

 private:
  [[nodiscard]] static Value eval(const ir::IntConst& node, ir::Type /*type*/) {
    return Value::of_int(node.value);
  }
  [[nodiscard]] static Value eval(const ir::FloatConst& node, ir::Type /*type*/) {
    return Value::of_float(node.value);
  }
  [[nodiscard]] static Value eval(const ir::BoolConst& node, ir::Type /*type*/) {
    return Value::of_bool(node.value);
  }

  [[nodiscard]] Value eval(const ir::BuiltinRef& node, ir::Type /*type*/) const {
    switch (node.which) {
      case ir::Builtin::B: return Value::of_int(point_.b);
      case ir::Builtin::H: return Value::of_int(point_.h);
      case ir::Builtin::Hkv: return Value::of_int(point_.hkv);
      case ir::Builtin::Q: return Value::of_int(point_.q);
      case ir::Builtin::K: return Value::of_int(point_.k);
      case ir::Builtin::Batch: return Value::of_int(point_.batch);
      case ir::Builtin::Heads: return Value::of_int(point_.heads);
      case ir::Builtin::KvHeads: return Value::of_int(point_.kv_heads);
      case ir::Builtin::QLen: return Value::of_int(point_.q_len);
      case ir::Builtin::KvLen: return Value::of_int(point_.kv_len);
      case ir::Builtin::Score: return Value::of_float(point_.score);
      case ir::Builtin::Causal: {
        // Queries are aligned to the end of the keys (LANGUAGE.md).
        const std::int64_t last_key =
            semantics::sub(semantics::add(point_.q, point_.kv_len), point_.q_len);
        return Value::of_bool(last_key >= point_.k);
      }
    }
    return {};
  }

  [[nodiscard]] Value eval(const ir::ParamRef& node, ir::Type /*type*/) const {
    const auto found = bindings_.params.find(node.name);
    if (found == bindings_.params.end()) {
      throw InputError(fmt::format("param '{}' has no value", node.name));
    }
    return found->second;
  }

  [[nodiscard]] Value eval(const ir::TensorRead& node, ir::Type type) const {
    const auto found = bindings_.tensors.find(node.name);
    if (found == bindings_.tensors.end()) {
      throw InputError(fmt::format("tensor '{}' is not bound", node.name));
    }
    const TensorView& tensor = found->second;
    if (tensor.shape.size() != node.indices.size()) {
      throw InputError(fmt::format("tensor '{}' has rank {} but is read with {} indices", node.name,
                                   tensor.shape.size(), node.indices.size()));
    }
    std::int64_t offset = 0;
    for (std::size_t dim = 0; dim < node.indices.size(); ++dim) {
      const std::int64_t index = (*this)(*node.indices[dim]).i;
      if (index < 0 || index >= tensor.shape[dim]) return zero_of(type);
      offset = offset * tensor.shape[dim] + index;
    }
    const double element = tensor.data[static_cast<std::size_t>(offset)];
    switch (type) {
      case ir::Type::Int: return Value::of_int(static_cast<std::int64_t>(element));
      case ir::Type::Float: return Value::of_float(element);
      case ir::Type::Bool: return Value::of_bool(element != 0);
    }
    return {};
  }

  [[nodiscard]] Value eval(const ir::Unary& node, ir::Type type) const {
    const Value operand = (*this)(*node.operand);
    if (node.op == ir::UnaryOp::Not) return Value::of_bool(!operand.b);
    return type == ir::Type::Int ? Value::of_int(semantics::neg(operand.i))
                                 : Value::of_float(-operand.f);
  }

  [[nodiscard]] Value eval(const ir::Binary& node, ir::Type type) const {
    switch (node.op) {
      case ir::BinaryOp::And: return Value::of_bool((*this)(*node.lhs).b && (*this)(*node.rhs).b);
      case ir::BinaryOp::Or: return Value::of_bool((*this)(*node.lhs).b || (*this)(*node.rhs).b);
      default: break;
    }
    const Value lhs = (*this)(*node.lhs);
    const Value rhs = (*this)(*node.rhs);
    if (semantics::is_comparison(node.op)) {
      switch (lhs.type) {
        case ir::Type::Int: return Value::of_bool(semantics::compare(node.op, lhs.i, rhs.i));
        case ir::Type::Float: return Value::of_bool(semantics::compare(node.op, lhs.f, rhs.f));
        case ir::Type::Bool: return Value::of_bool(semantics::compare(node.op, lhs.b, rhs.b));
      }
    }
    if (type == ir::Type::Int) return Value::of_int(semantics::int_binary(node.op, lhs.i, rhs.i));
    return Value::of_float(semantics::float_binary(node.op, lhs.f, rhs.f));
  }

  [[nodiscard]] Value eval(const ir::Select& node, ir::Type /*type*/) const {
    return (*this)(*((*this)(*node.cond).b ? node.if_true : node.if_false));
  }

  [[nodiscard]] Value eval(const ir::Call& node, ir::Type type) const {
    const std::size_t arity = node.args.size();
    if (type == ir::Type::Int) {
      std::array<std::int64_t, kMaxArgs> args{};
      for (std::size_t i = 0; i < arity; ++i) args.at(i) = (*this)(*node.args[i]).i;
      return Value::of_int(
          semantics::int_call(node.func, std::span<const std::int64_t>(args.data(), arity)));
    }
    std::array<double, kMaxArgs> args{};
    for (std::size_t i = 0; i < arity; ++i) args.at(i) = (*this)(*node.args[i]).f;
    return Value::of_float(
        semantics::float_call<double>(node.func, std::span<const double>(args.data(), arity)));
  }

  [[nodiscard]] Value eval(const ir::IntToFloat& node, ir::Type /*type*/) const {
    return Value::of_float(static_cast<double>((*this)(*node.operand).i));
  }

  const Point& point_;
  const Bindings& bindings_;
};

}  // namespace

Value evaluate(const ir::Expr& expr, const Point& point, const Bindings& bindings) {
  return Evaluator(point, bindings)(expr);
}

bool mask_holds(std::span<const ir::ExprPtr> conjuncts, const Point& point,
                const Bindings& bindings) {
  return std::ranges::all_of(conjuncts, [&](const ir::ExprPtr& conjunct) {
    return evaluate(*conjunct, point, bindings).b;
  });
}

}  // namespace attnjit::reference
