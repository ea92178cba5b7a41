// The interpreter on hand-built IR, node kind by node kind.
#include "reference/interpreter.hpp"

#include <attnjit/error.hpp>
#include <attnjit/ir.hpp>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit::reference {
namespace {

using ir::BinaryOp;
using ir::ExprPtr;
using ir::Func;
using ir::Type;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();

ExprPtr lit(std::int64_t value) { return ir::int_const(value); }
ExprPtr lit(float value) { return ir::float_const(value); }
ExprPtr lit(bool value) { return ir::bool_const(value); }
// The builtin `score` feeds exact doubles in, which float literals could not.
ExprPtr score() { return ir::builtin(ir::Builtin::Score); }

Value eval(const ExprPtr& expr, const Point& point = {}, const Bindings& bindings = {}) {
  return evaluate(*expr, point, bindings);
}

std::int64_t eval_int(const ExprPtr& expr) {
  const Value value = eval(expr);
  EXPECT_EQ(value.type, Type::Int);
  return value.i;
}

double eval_float(const ExprPtr& expr, double score_value = 0) {
  Point point;
  point.score = score_value;
  const Value value = eval(expr, point);
  EXPECT_EQ(value.type, Type::Float);
  return value.f;
}

bool eval_bool(const ExprPtr& expr) {
  const Value value = eval(expr);
  EXPECT_EQ(value.type, Type::Bool);
  return value.b;
}

std::int64_t int_op(BinaryOp op, std::int64_t a, std::int64_t b) {
  return eval_int(ir::binary(op, lit(a), lit(b)));
}

TEST(Interpreter, IntsWrap) {
  EXPECT_EQ(int_op(BinaryOp::Add, kMax, 1), kMin);
  EXPECT_EQ(int_op(BinaryOp::Sub, kMin, 1), kMax);
  EXPECT_EQ(int_op(BinaryOp::Mul, kMax, 2), -2);
  EXPECT_EQ(eval_int(ir::unary(ir::UnaryOp::Neg, lit(kMin))), kMin);
  EXPECT_EQ(eval_int(ir::call(Func::Abs, {lit(kMin)})), kMin);
}

TEST(Interpreter, IntDivisionTruncatesAndByZeroGivesZero) {
  EXPECT_EQ(int_op(BinaryOp::Div, 7, 2), 3);
  EXPECT_EQ(int_op(BinaryOp::Div, -7, 2), -3);
  EXPECT_EQ(int_op(BinaryOp::Mod, -7, 2), -1);
  EXPECT_EQ(int_op(BinaryOp::Div, 7, 0), 0);
  EXPECT_EQ(int_op(BinaryOp::Mod, 7, 0), 0);
  EXPECT_EQ(int_op(BinaryOp::Div, kMin, -1), kMin);
  EXPECT_EQ(int_op(BinaryOp::Mod, kMin, -1), 0);
}

TEST(Interpreter, FloatsAreDoubles) {
  // 1e30 squared overflows a float but not a double.
  EXPECT_EQ(eval_float(ir::binary(BinaryOp::Mul, lit(1e30F), lit(1e30F))),
            static_cast<double>(1e30F) * static_cast<double>(1e30F));
  EXPECT_EQ(eval_float(lit(0.1F)), static_cast<double>(0.1F));
  EXPECT_EQ(eval_float(ir::binary(BinaryOp::Add, score(), lit(1.0F)), 1e-12), 1.0 + 1e-12);
  EXPECT_EQ(eval_float(ir::binary(BinaryOp::Div, lit(1.0F), lit(0.0F))),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(eval_float(ir::unary(ir::UnaryOp::Neg, score()), 2.5), -2.5);
}

TEST(Interpreter, MixedArithmeticPromotesExactly) {
  const std::int64_t big = (std::int64_t{1} << 40) + 1;
  EXPECT_EQ(eval_float(ir::to_float(lit(big))), static_cast<double>(big));
  EXPECT_EQ(eval_float(ir::binary(BinaryOp::Add, lit(big), score()), 0.5),
            static_cast<double>(big) + 0.5);
}

TEST(Interpreter, Comparisons) {
  const auto compare_ints = [](BinaryOp op, std::int64_t a, std::int64_t b) {
    return eval_bool(ir::binary(op, lit(a), lit(b)));
  };
  EXPECT_TRUE(compare_ints(BinaryOp::Lt, -1, 0));
  EXPECT_FALSE(compare_ints(BinaryOp::Lt, 0, 0));
  EXPECT_TRUE(compare_ints(BinaryOp::Le, 0, 0));
  EXPECT_TRUE(compare_ints(BinaryOp::Gt, kMax, kMin));
  EXPECT_FALSE(compare_ints(BinaryOp::Ge, kMin, kMax));
  EXPECT_TRUE(compare_ints(BinaryOp::Eq, 5, 5));
  EXPECT_TRUE(compare_ints(BinaryOp::Ne, 5, 6));
  EXPECT_TRUE(eval_bool(ir::binary(BinaryOp::Lt, lit(1.5F), lit(2.5F))));
  EXPECT_FALSE(eval_bool(ir::binary(BinaryOp::Eq, lit(1.5F), lit(2.5F))));
  // Promotion compares 2 with 2.5, not 2 with 2.
  EXPECT_TRUE(eval_bool(ir::binary(BinaryOp::Lt, lit(std::int64_t{2}), lit(2.5F))));
  EXPECT_TRUE(eval_bool(ir::binary(BinaryOp::Eq, lit(true), lit(true))));
  EXPECT_TRUE(eval_bool(ir::binary(BinaryOp::Ne, lit(true), lit(false))));
}

TEST(Interpreter, BoolOps) {
  for (const bool a : {false, true}) {
    for (const bool b : {false, true}) {
      EXPECT_EQ(eval_bool(ir::binary(BinaryOp::And, lit(a), lit(b))), a && b);
      EXPECT_EQ(eval_bool(ir::binary(BinaryOp::Or, lit(a), lit(b))), a || b);
    }
    EXPECT_EQ(eval_bool(ir::unary(ir::UnaryOp::Not, lit(a))), !a);
  }
}

TEST(Interpreter, Select) {
  EXPECT_EQ(eval_int(ir::select(lit(true), lit(std::int64_t{1}), lit(std::int64_t{2}))), 1);
  EXPECT_EQ(eval_int(ir::select(lit(false), lit(std::int64_t{1}), lit(std::int64_t{2}))), 2);
  EXPECT_EQ(eval_float(ir::select(lit(false), lit(1.5F), lit(2.5F))), 2.5);
  EXPECT_FALSE(eval_bool(ir::select(lit(true), lit(false), lit(true))));
  EXPECT_EQ(eval_float(ir::select(lit(true), lit(std::int64_t{3}), lit(0.5F))), 3.0);
}

TEST(Interpreter, FloatFunctionsMatchStdMath) {
  struct Case {
    Func func;
    std::function<double(double)> expected;
  };
  const std::vector<Case> cases = {
      {Func::Abs, [](double x) { return std::abs(x); }},
      {Func::Exp, [](double x) { return std::exp(x); }},
      {Func::Exp2, [](double x) { return std::exp2(x); }},
      {Func::Log, [](double x) { return std::log(x); }},
      {Func::Log2, [](double x) { return std::log2(x); }},
      {Func::Sqrt, [](double x) { return std::sqrt(x); }},
      {Func::Rsqrt, [](double x) { return 1 / std::sqrt(x); }},
      {Func::Tanh, [](double x) { return std::tanh(x); }},
      {Func::Sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }},
      {Func::Floor, [](double x) { return std::floor(x); }},
      {Func::Ceil, [](double x) { return std::ceil(x); }},
  };
  for (const Case& c : cases) {
    for (const double x : {-2.75, -0.3, 0.1, 0.7, 3.2, 40.0}) {
      const double got = eval_float(ir::call(c.func, {score()}), x);
      const double want = c.expected(x);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(got)) << ir::func_name(c.func) << "(" << x << ")";
      } else {
        EXPECT_DOUBLE_EQ(got, want) << ir::func_name(c.func) << "(" << x << ")";
      }
    }
  }
}

TEST(Interpreter, TwoAndThreeArgumentFunctions) {
  const auto call = [](Func func, std::vector<ExprPtr> args, double x) {
    return eval_float(ir::call(func, std::move(args)), x);
  };
  EXPECT_EQ(call(Func::Min, {score(), lit(1.0F)}, 0.25), 0.25);
  EXPECT_EQ(call(Func::Max, {score(), lit(1.0F)}, 0.25), 1.0);
  EXPECT_EQ(call(Func::Clamp, {score(), lit(-1.0F), lit(1.0F)}, 3.5), 1.0);
  EXPECT_EQ(call(Func::Clamp, {score(), lit(-1.0F), lit(1.0F)}, -3.5), -1.0);
  EXPECT_EQ(call(Func::Clamp, {score(), lit(-1.0F), lit(1.0F)}, 0.375), 0.375);
  // As fminf/fmaxf on the GPU, a NaN operand is ignored.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(call(Func::Min, {score(), lit(1.0F)}, nan), 1.0);
  EXPECT_EQ(call(Func::Max, {score(), lit(1.0F)}, nan), 1.0);
  for (const double x : {-100.0, -3.0, 0.5, 29.0, 1000.0}) {
    EXPECT_DOUBLE_EQ(call(Func::Softcap, {score(), lit(30.0F)}, x), 30.0 * std::tanh(x / 30.0));
  }
}

TEST(Interpreter, IntFunctionsStayInt) {
  EXPECT_EQ(eval_int(ir::call(Func::Abs, {lit(std::int64_t{-7})})), 7);
  EXPECT_EQ(eval_int(ir::call(Func::Min, {lit(std::int64_t{-7}), lit(std::int64_t{3})})), -7);
  EXPECT_EQ(eval_int(ir::call(Func::Max, {lit(std::int64_t{-7}), lit(std::int64_t{3})})), 3);
  EXPECT_EQ(eval_int(ir::call(Func::Clamp,
                              {lit(std::int64_t{9}), lit(std::int64_t{0}), lit(std::int64_t{4})})),
            4);
  // A mixed call is a float call.
  EXPECT_EQ(eval_float(ir::call(Func::Max, {lit(std::int64_t{2}), lit(2.5F)})), 2.5);
}

TEST(Interpreter, Builtins) {
  Point point;
  point.b = 1;
  point.h = 5;
  point.hkv = 2;
  point.q = 3;
  point.k = 4;
  point.batch = 6;
  point.heads = 8;
  point.kv_heads = 4;
  point.q_len = 7;
  point.kv_len = 9;
  point.score = -1.25;
  const auto value = [&](ir::Builtin which) { return eval(ir::builtin(which), point); };
  EXPECT_EQ(value(ir::Builtin::B).i, 1);
  EXPECT_EQ(value(ir::Builtin::H).i, 5);
  EXPECT_EQ(value(ir::Builtin::Hkv).i, 2);
  EXPECT_EQ(value(ir::Builtin::Q).i, 3);
  EXPECT_EQ(value(ir::Builtin::K).i, 4);
  EXPECT_EQ(value(ir::Builtin::Batch).i, 6);
  EXPECT_EQ(value(ir::Builtin::Heads).i, 8);
  EXPECT_EQ(value(ir::Builtin::KvHeads).i, 4);
  EXPECT_EQ(value(ir::Builtin::QLen).i, 7);
  EXPECT_EQ(value(ir::Builtin::KvLen).i, 9);
  EXPECT_EQ(value(ir::Builtin::Score).type, Type::Float);
  EXPECT_EQ(value(ir::Builtin::Score).f, -1.25);
  // Query 3 of 7 against 9 keys is aligned with key 5.
  point.k = 5;
  EXPECT_TRUE(value(ir::Builtin::Causal).b);
  point.k = 6;
  EXPECT_FALSE(value(ir::Builtin::Causal).b);
}

TEST(Interpreter, Params) {
  Bindings bindings;
  bindings.params["n"] = Value::of_int(-4);
  bindings.params["x"] = Value::of_float(0.5);
  bindings.params["on"] = Value::of_bool(true);
  EXPECT_EQ(eval(ir::param_ref("n", Type::Int), {}, bindings).i, -4);
  EXPECT_EQ(eval(ir::param_ref("x", Type::Float), {}, bindings).f, 0.5);
  EXPECT_TRUE(eval(ir::param_ref("on", Type::Bool), {}, bindings).b);
  EXPECT_THROW((void)eval(ir::param_ref("missing", Type::Int), {}, bindings), InputError);
}

// A 2 x 3 tensor, row-major, read at (row, col) with the given element type.
class TensorReads : public ::testing::Test {
 protected:
  [[nodiscard]] Value read(Type element, std::int64_t row, std::int64_t col) const {
    return eval(ir::tensor_read("t", element, {lit(row), lit(col)}), {}, bindings());
  }

  [[nodiscard]] Bindings bindings() const {
    Bindings bindings;
    bindings.tensors["t"] = TensorView{shape_, data_};
    return bindings;
  }

 private:
  std::vector<std::int64_t> shape_ = {2, 3};
  std::vector<double> data_ = {0.0, 2.75, -2.75, 0.5, -3.0, 7.0};
};

TEST_F(TensorReads, RowMajorIndexing) {
  EXPECT_EQ(read(Type::Float, 0, 1).f, 2.75);
  EXPECT_EQ(read(Type::Float, 1, 0).f, 0.5);
  EXPECT_EQ(read(Type::Float, 1, 2).f, 7.0);
}

TEST_F(TensorReads, IntElementsTruncate) {
  EXPECT_EQ(read(Type::Int, 0, 1).i, 2);
  EXPECT_EQ(read(Type::Int, 0, 2).i, -2);
  EXPECT_EQ(read(Type::Int, 1, 2).i, 7);
}

TEST_F(TensorReads, BoolElementsAreNonZero) {
  EXPECT_FALSE(read(Type::Bool, 0, 0).b);
  EXPECT_TRUE(read(Type::Bool, 1, 0).b);
  EXPECT_TRUE(read(Type::Bool, 1, 1).b);
}

TEST_F(TensorReads, OutsideTheBoundsReadsZero) {
  for (const auto& [row, col] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {-1, 0}, {2, 0}, {0, -1}, {0, 3}, {1, 3}, {kMin, kMax}}) {
    const Value as_float = read(Type::Float, row, col);
    EXPECT_EQ(as_float.type, Type::Float);
    EXPECT_EQ(as_float.f, 0.0) << row << ", " << col;
    EXPECT_EQ(read(Type::Int, row, col).i, 0) << row << ", " << col;
    const Value as_bool = read(Type::Bool, row, col);
    EXPECT_EQ(as_bool.type, Type::Bool);
    EXPECT_FALSE(as_bool.b) << row << ", " << col;
  }
}

TEST_F(TensorReads, MissingTensorOrWrongRankThrows) {
  const Bindings empty;
  EXPECT_THROW((void)eval(ir::tensor_read("t", Type::Float, {lit(std::int64_t{0})}), {}, empty),
               InputError);
  EXPECT_THROW(
      (void)eval(ir::tensor_read("t", Type::Float, {lit(std::int64_t{0})}), {}, bindings()),
      InputError);
}

}  // namespace
}  // namespace attnjit::reference
