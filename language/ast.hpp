// The syntax tree of a `.attn` file, as written: names unresolved, no types.
// Text views point into the source, which outlives the tree.
#pragma once

#include "language/lexer.hpp"
#include <attnjit/ir.hpp>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace attnjit::ast {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind : std::uint8_t { Int, Float, Bool, Name, Unary, Binary, Ternary, Call, Index };
  Kind kind = Kind::Int;
  Span span;  // the literal, the name, or the operator
  std::string_view name;
  std::int64_t int_value = 0;
  float float_value = 0;
  bool bool_value = false;
  ir::UnaryOp unary_op = ir::UnaryOp::Neg;
  ir::BinaryOp binary_op = ir::BinaryOp::Add;
  std::vector<ExprPtr> children;  // operands, branches, arguments or indices
  int depth = 1;
  int size = 1;
};

struct Dim {
  Span span;
  std::string_view name;  // empty for a fixed extent
  std::int64_t extent = 0;
};

struct Statement {
  enum class Kind : std::uint8_t {
    DType,
    OutDType,
    HeadDim,
    HeadDimV,
    Scale,
    Mask,
    Score,
    Param,
    Tensor,
    Kv,
    Sparsity,
    Approx,
    Quant,
  };
  Kind kind = Kind::DType;
  Span keyword;
  Token word;    // the type of dtype/out_dtype, the name of param/tensor, the layout of kv,
                 // the kind of sparsity
  Token type;    // the type of param/tensor
  Token size;    // the value of head_dim/head_dim_v, the page size of kv paged, BM of sparsity
                 // block, the buckets of sparsity hash
  Token size_n;  // BN of sparsity block
  // key=value of approx hyper or quant sage, in written order
  std::vector<std::pair<Token, Token>> args;
  ExprPtr expr;  // scale, mask, score, or a param's default
  std::vector<Dim> dims;
};

struct Variant {
  Token name;
  std::vector<Statement> statements;
};

}  // namespace attnjit::ast
