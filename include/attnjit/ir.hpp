// The typed expression IR of a variant: immutable trees of small nodes.
//
// Every node is made by one of the factory functions below, which apply the
// language's typing rules (LANGUAGE.md) and throw SpecError on a violation, so
// an ExprPtr is always well typed. Mixed int/float operands get an explicit
// IntToFloat node; the printer leaves it out again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace attnjit::ir {

enum class Type : std::uint8_t { Int, Float, Bool };

enum class Builtin : std::uint8_t {
  B,
  H,
  Hkv,
  Q,
  K,
  Batch,
  Heads,
  KvHeads,
  QLen,
  KvLen,
  Score,
  Causal,
};

enum class UnaryOp : std::uint8_t { Neg, Not };

enum class BinaryOp : std::uint8_t {
  Add,
  Sub,
  Mul,
  Div,
  Mod,
  Lt,
  Le,
  Gt,
  Ge,
  Eq,
  Ne,
  And,
  Or,
};

enum class Func : std::uint8_t {
  Abs,
  Min,
  Max,
  Clamp,
  Exp,
  Exp2,
  Log,
  Log2,
  Sqrt,
  Rsqrt,
  Tanh,
  Sigmoid,
  Floor,
  Ceil,
  Softcap,
};

class Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct IntConst {
  std::int64_t value;
};
struct FloatConst {
  float value;
};
struct BoolConst {
  bool value;
};
struct BuiltinRef {
  Builtin which;
};
struct ParamRef {
  std::string name;
};
struct TensorRead {
  std::string name;
  std::vector<ExprPtr> indices;
};
struct Unary {
  UnaryOp op;
  ExprPtr operand;
};
struct Binary {
  BinaryOp op;
  ExprPtr lhs;
  ExprPtr rhs;
};
struct Select {
  ExprPtr cond;
  ExprPtr if_true;
  ExprPtr if_false;
};
struct Call {
  Func func;
  std::vector<ExprPtr> args;
};
struct IntToFloat {
  ExprPtr operand;
};

using Node = std::variant<IntConst, FloatConst, BoolConst, BuiltinRef, ParamRef, TensorRead, Unary,
                          Binary, Select, Call, IntToFloat>;

// Limits that keep every recursive pass bounded, whatever the input.
inline constexpr int kMaxDepth = 256;
inline constexpr int kMaxNodes = 65536;

class Expr {
 public:
  [[nodiscard]] Type type() const { return type_; }
  [[nodiscard]] const Node& node() const { return node_; }
  [[nodiscard]] int depth() const { return depth_; }
  [[nodiscard]] int size() const { return size_; }
  template <class T>
  [[nodiscard]] const T* as() const {
    return std::get_if<T>(&node_);
  }

  // Only the factories construct nodes; the tag keeps the constructor out of reach.
  struct Key {
   private:
    Key() = default;
    friend struct Factory;
  };
  Expr(Key /*key*/, Type type, Node node, int depth, int size)
      : type_(type), node_(std::move(node)), depth_(depth), size_(size) {}

 private:
  Type type_;
  Node node_;
  int depth_;
  int size_;
};

ExprPtr int_const(std::int64_t value);
ExprPtr float_const(float value);
ExprPtr bool_const(bool value);
ExprPtr builtin(Builtin which);
ExprPtr param_ref(std::string name, Type type);
ExprPtr tensor_read(std::string name, Type element, std::vector<ExprPtr> indices);
ExprPtr unary(UnaryOp op, ExprPtr operand);
ExprPtr binary(BinaryOp op, ExprPtr lhs, ExprPtr rhs);
ExprPtr select(ExprPtr cond, ExprPtr if_true, ExprPtr if_false);
ExprPtr call(Func func, std::vector<ExprPtr> args);
// Converts an int expression to float; a float one is returned unchanged.
ExprPtr to_float(ExprPtr operand);

std::string_view type_name(Type type);
std::string_view builtin_name(Builtin which);
Type builtin_type(Builtin which);
std::string_view unary_spelling(UnaryOp op);
std::string_view binary_spelling(BinaryOp op);
std::string_view func_name(Func func);
// The number of arguments a function takes.
int func_arity(Func func);

}  // namespace attnjit::ir
