// The typing rules of LANGUAGE.md, applied as each node is made.
#include "language/semantics.hpp"
#include <attnjit/error.hpp>
#include <attnjit/ir.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace attnjit::ir {

struct Factory {
  static ExprPtr make(Type type, Node node, std::initializer_list<const ExprPtr*> children) {
    int depth = 0;
    int size = 1;
    for (const ExprPtr* child : children) {
      depth = std::max(depth, (*child)->depth());
      size += (*child)->size();
    }
    return finish(type, std::move(node), depth, size);
  }
  static ExprPtr make(Type type, Node node, const std::vector<ExprPtr>& children) {
    int depth = 0;
    int size = 1;
    for (const ExprPtr& child : children) {
      depth = std::max(depth, child->depth());
      size += child->size();
    }
    return finish(type, std::move(node), depth, size);
  }

 private:
  static ExprPtr finish(Type type, Node node, int child_depth, int size) {
    if (child_depth + 1 > kMaxDepth) {
      throw SpecError(fmt::format("expression nested too deeply (limit {} levels)", kMaxDepth));
    }
    if (size > kMaxNodes) {
      throw SpecError(fmt::format("expression too large (limit {} nodes)", kMaxNodes));
    }
    return std::make_shared<const Expr>(Expr::Key{}, type, std::move(node), child_depth + 1, size);
  }
};

namespace {

void require(const ExprPtr& expr) {
  if (!expr) throw SpecError("missing operand");
}

bool numeric(Type type) { return type == Type::Int || type == Type::Float; }

std::string operand_error(std::string_view what, std::string_view needs, Type got) {
  return fmt::format("{} needs {} operands, got {}", what, needs, type_name(got));
}

}  // namespace

ExprPtr int_const(std::int64_t value) { return Factory::make(Type::Int, IntConst{value}, {}); }
ExprPtr float_const(float value) { return Factory::make(Type::Float, FloatConst{value}, {}); }
ExprPtr bool_const(bool value) { return Factory::make(Type::Bool, BoolConst{value}, {}); }
ExprPtr builtin(Builtin which) { return Factory::make(builtin_type(which), BuiltinRef{which}, {}); }
ExprPtr param_ref(std::string name, Type type) {
  return Factory::make(type, ParamRef{std::move(name)}, {});
}

ExprPtr tensor_read(std::string name, Type element, std::vector<ExprPtr> indices) {
  for (const ExprPtr& index : indices) {
    require(index);
    if (index->type() != Type::Int) {
      throw SpecError(
          fmt::format("index of tensor '{}' must be int, got {}", name, type_name(index->type())));
    }
  }
  Node node = TensorRead{name, indices};
  return Factory::make(element, std::move(node), indices);
}

ExprPtr to_float(ExprPtr operand) {
  require(operand);
  if (operand->type() == Type::Float) return operand;
  if (operand->type() != Type::Int) {
    throw SpecError(fmt::format("expected a number, got {}", type_name(operand->type())));
  }
  return Factory::make(Type::Float, IntToFloat{operand}, {&operand});
}

ExprPtr unary(UnaryOp op, ExprPtr operand) {
  require(operand);
  if (op == UnaryOp::Not) {
    if (operand->type() != Type::Bool) {
      throw SpecError(operand_error("operator '!'", "bool", operand->type()));
    }
    return Factory::make(Type::Bool, Unary{op, operand}, {&operand});
  }
  if (!numeric(operand->type())) {
    throw SpecError(operand_error("operator '-'", "number", operand->type()));
  }
  return Factory::make(operand->type(), Unary{op, operand}, {&operand});
}

ExprPtr binary(BinaryOp op, ExprPtr lhs, ExprPtr rhs) {
  require(lhs);
  require(rhs);
  const std::string what = fmt::format("operator '{}'", binary_spelling(op));
  if (semantics::is_logical(op)) {
    for (const ExprPtr* side : {&lhs, &rhs}) {
      if ((*side)->type() != Type::Bool) {
        throw SpecError(operand_error(what, "bool", (*side)->type()));
      }
    }
    return Factory::make(Type::Bool, Binary{op, lhs, rhs}, {&lhs, &rhs});
  }
  const bool equality = op == BinaryOp::Eq || op == BinaryOp::Ne;
  if (equality && lhs->type() == Type::Bool && rhs->type() == Type::Bool) {
    return Factory::make(Type::Bool, Binary{op, lhs, rhs}, {&lhs, &rhs});
  }
  for (const ExprPtr* side : {&lhs, &rhs}) {
    if (!numeric((*side)->type())) {
      throw SpecError(equality ? fmt::format("{} compares a bool with a number", what)
                               : operand_error(what, "number", (*side)->type()));
    }
  }
  if (op == BinaryOp::Mod && (lhs->type() != Type::Int || rhs->type() != Type::Int)) {
    throw SpecError(operand_error(what, "int", Type::Float));
  }
  if (lhs->type() != rhs->type()) {
    lhs = to_float(lhs);
    rhs = to_float(rhs);
  }
  const Type result = semantics::is_comparison(op) ? Type::Bool : lhs->type();
  return Factory::make(result, Binary{op, lhs, rhs}, {&lhs, &rhs});
}

ExprPtr select(ExprPtr cond, ExprPtr if_true, ExprPtr if_false) {
  require(cond);
  require(if_true);
  require(if_false);
  if (cond->type() != Type::Bool) {
    throw SpecError(fmt::format("condition of '?:' must be bool, got {}", type_name(cond->type())));
  }
  if (if_true->type() != if_false->type()) {
    if (!numeric(if_true->type()) || !numeric(if_false->type())) {
      throw SpecError(fmt::format("branches of '?:' have types {} and {}",
                                  type_name(if_true->type()), type_name(if_false->type())));
    }
    if_true = to_float(if_true);
    if_false = to_float(if_false);
  }
  const Type result = if_true->type();
  return Factory::make(result, Select{cond, if_true, if_false}, {&cond, &if_true, &if_false});
}

ExprPtr call(Func func, std::vector<ExprPtr> args) {
  const auto arity = static_cast<std::size_t>(func_arity(func));
  if (args.size() != arity) {
    throw SpecError(fmt::format("'{}' takes {} argument{}, got {}", func_name(func), arity,
                                arity == 1 ? "" : "s", args.size()));
  }
  bool all_int = true;
  for (const ExprPtr& arg : args) {
    require(arg);
    if (!numeric(arg->type())) {
      throw SpecError(fmt::format("'{}' needs number arguments, got {}", func_name(func),
                                  type_name(arg->type())));
    }
    all_int = all_int && arg->type() == Type::Int;
  }
  if (!(all_int && semantics::keeps_int(func))) {
    for (ExprPtr& arg : args) arg = to_float(arg);
  }
  const Type result = args.front()->type();
  Node node = Call{func, args};
  return Factory::make(result, std::move(node), args);
}

}  // namespace attnjit::ir
