#include "language/parser.hpp"

#include "language/names.hpp"
#include "language/suggest.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace attnjit {
namespace {

struct SyntaxError {
  Span span;
  std::string message;
};

struct Keyword {
  std::string_view word;
  ast::Statement::Kind kind;
};

constexpr std::array kKeywords = {
    Keyword{"dtype", ast::Statement::Kind::DType},
    Keyword{"out_dtype", ast::Statement::Kind::OutDType},
    Keyword{"head_dim", ast::Statement::Kind::HeadDim},
    Keyword{"head_dim_v", ast::Statement::Kind::HeadDimV},
    Keyword{"scale", ast::Statement::Kind::Scale},
    Keyword{"mask", ast::Statement::Kind::Mask},
    Keyword{"score", ast::Statement::Kind::Score},
    Keyword{"param", ast::Statement::Kind::Param},
    Keyword{"tensor", ast::Statement::Kind::Tensor},
    Keyword{"kv", ast::Statement::Kind::Kv},
    Keyword{"sparsity", ast::Statement::Kind::Sparsity},
    Keyword{"approx", ast::Statement::Kind::Approx},
    Keyword{"quant", ast::Statement::Kind::Quant},
};

constexpr std::array kKvLayouts = {std::string_view{"contiguous"}, std::string_view{"paged"}};

constexpr std::array kSparsities = {std::string_view{"block"}, std::string_view{"hash"}};

// Binary operators by level, loosest first (LANGUAGE.md's table); all are
// left-associative.
struct BinaryLevel {
  std::array<std::pair<TokenKind, ir::BinaryOp>, 4> ops;
  std::size_t count;
};
constexpr std::array kBinaryLevels = {
    BinaryLevel{{{{TokenKind::OrOr, ir::BinaryOp::Or}}}, 1},
    BinaryLevel{{{{TokenKind::AndAnd, ir::BinaryOp::And}}}, 1},
    BinaryLevel{
        {{{TokenKind::EqualEqual, ir::BinaryOp::Eq}, {TokenKind::NotEqual, ir::BinaryOp::Ne}}}, 2},
    BinaryLevel{{{{TokenKind::Less, ir::BinaryOp::Lt},
                  {TokenKind::LessEqual, ir::BinaryOp::Le},
                  {TokenKind::Greater, ir::BinaryOp::Gt},
                  {TokenKind::GreaterEqual, ir::BinaryOp::Ge}}},
                4},
    BinaryLevel{{{{TokenKind::Plus, ir::BinaryOp::Add}, {TokenKind::Minus, ir::BinaryOp::Sub}}}, 2},
    BinaryLevel{{{{TokenKind::Star, ir::BinaryOp::Mul},
                  {TokenKind::Slash, ir::BinaryOp::Div},
                  {TokenKind::Percent, ir::BinaryOp::Mod}}},
                3},
};

std::string describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::End: return "end of file";
    case TokenKind::Ident:
    case TokenKind::Int:
    case TokenKind::Float: return fmt::format("'{}'", token.text);
    default: return fmt::format("'{}'", token_spelling(token.kind));
  }
}

// Bounds the recursion of the parser itself: parentheses and unary operators
// nest without growing the tree.
class NestingGuard {
 public:
  NestingGuard(int& nesting, const Span& span) : nesting_(nesting) {
    if (++nesting_ > ir::kMaxDepth) {
      --nesting_;
      throw SyntaxError{
          span, fmt::format("expression nested too deeply (limit {} levels)", ir::kMaxDepth)};
    }
  }
  NestingGuard(const NestingGuard&) = delete;
  NestingGuard& operator=(const NestingGuard&) = delete;
  ~NestingGuard() { --nesting_; }

 private:
  int& nesting_;
};

ast::ExprPtr node(ast::Expr::Kind kind, const Span& span, std::vector<ast::ExprPtr> children) {
  auto expr = std::make_unique<ast::Expr>();
  expr->kind = kind;
  expr->span = span;
  int depth = 0;
  for (const ast::ExprPtr& child : children) {
    depth = std::max(depth, child->depth);
    expr->size += child->size;
  }
  expr->depth = depth + 1;
  if (expr->depth > ir::kMaxDepth) {
    throw SyntaxError{span,
                      fmt::format("expression nested too deeply (limit {} levels)", ir::kMaxDepth)};
  }
  if (expr->size > ir::kMaxNodes) {
    throw SyntaxError{span, fmt::format("expression too large (limit {} nodes)", ir::kMaxNodes)};
  }
  expr->children = std::move(children);
  return expr;
}

std::vector<ast::ExprPtr> list(ast::ExprPtr a) {
  std::vector<ast::ExprPtr> out;
  out.push_back(std::move(a));
  return out;
}

std::vector<ast::ExprPtr> list(ast::ExprPtr a, ast::ExprPtr b) {
  std::vector<ast::ExprPtr> out = list(std::move(a));
  out.push_back(std::move(b));
  return out;
}

}  // namespace

Parser::Parser(std::string_view source, Diagnostics& diagnostics)
    : lexer_(source), diagnostics_(diagnostics) {
  token_ = lexer_.next();
}

void Parser::advance() { token_ = lexer_.next(); }

// Consumes the current token; a malformed one is an error here, not later.
Token Parser::take() {
  if (token_.kind == TokenKind::Error) throw SyntaxError{token_.span, token_.error};
  Token taken = std::move(token_);
  advance();
  return taken;
}

Token Parser::expect(TokenKind kind, std::string_view context) {
  if (token_.kind == TokenKind::Error) throw SyntaxError{token_.span, token_.error};
  if (token_.kind != kind) {
    throw SyntaxError{token_.span, fmt::format("expected '{}' {}, got {}", token_spelling(kind),
                                               context, describe(token_))};
  }
  return take();
}

Token Parser::expect_name(std::string_view what) {
  if (token_.kind == TokenKind::Error) throw SyntaxError{token_.span, token_.error};
  if (token_.kind != TokenKind::Ident) {
    throw SyntaxError{token_.span, fmt::format("expected {}, got {}", what, describe(token_))};
  }
  return take();
}

bool Parser::at_word(std::string_view word) const {
  return token_.kind == TokenKind::Ident && token_.text == word;
}

void Parser::skip_statement() {
  while (token_.kind != TokenKind::End && token_.kind != TokenKind::RBrace) {
    const bool end = token_.kind == TokenKind::Semicolon;
    advance();
    if (end) return;
  }
}

void Parser::skip_to_variant() {
  while (token_.kind != TokenKind::End && !at_word("variant")) advance();
}

std::optional<ast::Variant> Parser::next_variant() {
  while (token_.kind != TokenKind::End && !diagnostics_.full()) {
    try {
      if (auto parsed = variant()) return parsed;
    } catch (const SyntaxError& error) {
      diagnostics_.error(error.span, error.message);
      if (at_word("variant")) advance();
      skip_to_variant();
    }
  }
  return std::nullopt;
}

std::optional<ast::Variant> Parser::variant() {
  if (!at_word("variant")) {
    throw SyntaxError{token_.span, fmt::format("expected 'variant', got {}", describe(token_))};
  }
  advance();
  ast::Variant parsed;
  parsed.name = expect_name("a variant name");
  expect(TokenKind::LBrace, "after the variant name");
  bool clean = true;
  while (token_.kind != TokenKind::RBrace) {
    if (token_.kind == TokenKind::End) {
      throw SyntaxError{token_.span,
                        fmt::format("expected '}}' to close variant '{}'", parsed.name.text)};
    }
    try {
      parsed.statements.push_back(statement());
    } catch (const SyntaxError& error) {
      diagnostics_.error(error.span, error.message);
      clean = false;
      skip_statement();
      if (diagnostics_.full()) return std::nullopt;
    }
  }
  advance();
  // A variant with a broken statement would only add confusing follow-on errors.
  if (!clean) return std::nullopt;
  return parsed;
}

ast::Statement Parser::statement() {
  const Token keyword = expect_name("a statement");
  ast::Statement parsed;
  parsed.keyword = keyword.span;
  const auto* found = std::find_if(kKeywords.begin(), kKeywords.end(),
                                   [&](const Keyword& k) { return k.word == keyword.text; });
  if (found == kKeywords.end()) {
    throw SyntaxError{keyword.span,
                      fmt::format("unknown statement '{}'{}", keyword.text,
                                  did_you_mean(keyword.text, names::statement_keywords()))};
  }
  parsed.kind = found->kind;
  statement_body(parsed);
  expect(TokenKind::Semicolon, fmt::format("to end the '{}' statement", found->word));
  return parsed;
}

void Parser::statement_body(ast::Statement& parsed) {
  using Kind = ast::Statement::Kind;
  switch (parsed.kind) {
    case Kind::DType:
    case Kind::OutDType: parsed.word = expect_name("a type"); return;
    case Kind::HeadDim:
    case Kind::HeadDimV: parsed.size = expect(TokenKind::Int, "as the head size"); return;
    case Kind::Scale:
    case Kind::Mask:
    case Kind::Score: parsed.expr = expression(); return;
    case Kind::Param:
      parsed.word = expect_name("a param name");
      expect(TokenKind::Colon, "after the param name");
      parsed.type = expect_name("a param type");
      if (token_.kind == TokenKind::Assign) {
        advance();
        parsed.expr = expression();
      }
      return;
    case Kind::Tensor:
      parsed.word = expect_name("a tensor name");
      expect(TokenKind::Colon, "after the tensor name");
      parsed.type = expect_name("an element type");
      expect(TokenKind::LBracket, "to open the tensor's dimensions");
      parsed.dims.push_back(dim());
      while (token_.kind == TokenKind::Comma) {
        advance();
        parsed.dims.push_back(dim());
      }
      expect(TokenKind::RBracket, "to close the tensor's dimensions");
      return;
    case Kind::Kv:
      parsed.word = expect_name("a KV layout ('contiguous' or 'paged')");
      if (parsed.word.text == "paged") {
        expect(TokenKind::LParen, "after 'paged'");
        parsed.size = expect(TokenKind::Int, "as the page size");
        expect(TokenKind::RParen, "after the page size");
      } else if (parsed.word.text != "contiguous") {
        throw SyntaxError{
            parsed.word.span,
            fmt::format("unknown KV layout '{}'{}", parsed.word.text,
                        did_you_mean(parsed.word.text, {kKvLayouts.begin(), kKvLayouts.end()}))};
      }
      return;
    case Kind::Approx:
      parsed.word = expect_name("a kind of approximation ('hyper')");
      if (parsed.word.text != "hyper") {
        throw SyntaxError{parsed.word.span,
                          fmt::format("unknown approximation '{}'{}", parsed.word.text,
                                      did_you_mean(parsed.word.text, {"hyper"}))};
      }
      named_args(parsed, "block, samples, lsh_bits, min_seq", true);
      return;
    case Kind::Quant:
      parsed.word = expect_name("a kind of quantisation ('sage')");
      if (parsed.word.text != "sage") {
        throw SyntaxError{parsed.word.span,
                          fmt::format("unknown quantisation '{}'{}", parsed.word.text,
                                      did_you_mean(parsed.word.text, {"sage"}))};
      }
      named_args(parsed, "qk, pv, smooth_k, hadamard", false);
      return;
    case Kind::Sparsity:
      parsed.word = expect_name("a kind of sparsity ('block' or 'hash')");
      if (parsed.word.text == "hash") {
        expect(TokenKind::LParen, "after 'hash'");
        const Token key = expect_name("'buckets'");
        if (key.text != "buckets") {
          throw SyntaxError{key.span, fmt::format("expected 'buckets', got '{}'", key.text)};
        }
        expect(TokenKind::Assign, "after 'buckets'");
        parsed.size = expect(TokenKind::Int, "as the number of buckets");
        expect(TokenKind::RParen, "after the number of buckets");
        return;
      }
      if (parsed.word.text != "block") {
        throw SyntaxError{
            parsed.word.span,
            fmt::format("unknown sparsity '{}'{}", parsed.word.text,
                        did_you_mean(parsed.word.text, {kSparsities.begin(), kSparsities.end()}))};
      }
      expect(TokenKind::LParen, "after 'block'");
      parsed.size = expect(TokenKind::Int, "as the query block size");
      expect(TokenKind::Comma, "between the block sizes");
      parsed.size_n = expect(TokenKind::Int, "as the key block size");
      expect(TokenKind::RParen, "after the block sizes");
      return;
  }
}

void Parser::named_args(ast::Statement& parsed, std::string_view keys, bool int_values) {
  if (token_.kind != TokenKind::LParen) return;  // every argument at its default
  advance();
  while (token_.kind != TokenKind::RParen) {
    if (!parsed.args.empty()) expect(TokenKind::Comma, "between the arguments");
    const Token key = expect_name(fmt::format("an argument name ({})", keys));
    expect(TokenKind::Assign, "after the argument name");
    parsed.args.emplace_back(key, int_values ? expect(TokenKind::Int, "as the argument's value")
                                             : expect_name("a type, true or false"));
  }
  advance();
}

ast::Dim Parser::dim() {
  ast::Dim parsed;
  parsed.span = token_.span;
  if (token_.kind == TokenKind::Int) {
    parsed.extent = take().int_value;
    return parsed;
  }
  parsed.name = expect_name("a dimension (a size name or an integer)").text;
  return parsed;
}

ast::ExprPtr Parser::expression() { return ternary(); }

ast::ExprPtr Parser::ternary() {
  const NestingGuard guard(nesting_, token_.span);
  ast::ExprPtr cond = binary(0);
  if (token_.kind != TokenKind::Question) return cond;
  const Span span = take().span;
  ast::ExprPtr if_true = ternary();
  expect(TokenKind::Colon, "in '?:'");
  ast::ExprPtr if_false = ternary();
  std::vector<ast::ExprPtr> children = list(std::move(cond), std::move(if_true));
  children.push_back(std::move(if_false));
  return node(ast::Expr::Kind::Ternary, span, std::move(children));
}

ast::ExprPtr Parser::binary(int level) {
  if (static_cast<std::size_t>(level) == kBinaryLevels.size()) return unary();
  ast::ExprPtr lhs = binary(level + 1);
  const BinaryLevel& ops = kBinaryLevels.at(static_cast<std::size_t>(level));
  while (true) {
    const auto* op = std::find_if(ops.ops.begin(), ops.ops.begin() + ops.count,
                                  [&](const auto& entry) { return entry.first == token_.kind; });
    if (op == ops.ops.begin() + ops.count) return lhs;
    const Span span = take().span;
    ast::ExprPtr rhs = binary(level + 1);
    lhs = node(ast::Expr::Kind::Binary, span, list(std::move(lhs), std::move(rhs)));
    lhs->binary_op = op->second;
  }
}

ast::ExprPtr Parser::unary() {
  if (token_.kind != TokenKind::Minus && token_.kind != TokenKind::Bang) return postfix();
  const NestingGuard guard(nesting_, token_.span);
  const Token op = take();
  ast::ExprPtr operand = unary();
  ast::ExprPtr expr = node(ast::Expr::Kind::Unary, op.span, list(std::move(operand)));
  expr->unary_op = op.kind == TokenKind::Minus ? ir::UnaryOp::Neg : ir::UnaryOp::Not;
  return expr;
}

ast::ExprPtr Parser::postfix() {
  if (token_.kind != TokenKind::Ident) return primary();
  const Token name = take();
  ast::Expr::Kind kind = ast::Expr::Kind::Name;
  std::vector<ast::ExprPtr> children;
  if (token_.kind == TokenKind::LParen || token_.kind == TokenKind::LBracket) {
    const bool call = token_.kind == TokenKind::LParen;
    kind = call ? ast::Expr::Kind::Call : ast::Expr::Kind::Index;
    advance();
    children = arguments(call ? TokenKind::RParen : TokenKind::RBracket);
  } else if (name.text == "true" || name.text == "false") {
    ast::ExprPtr literal = node(ast::Expr::Kind::Bool, name.span, {});
    literal->bool_value = name.text == "true";
    return literal;
  }
  ast::ExprPtr expr = node(kind, name.span, std::move(children));
  expr->name = name.text;
  return expr;
}

std::vector<ast::ExprPtr> Parser::arguments(TokenKind close) {
  std::vector<ast::ExprPtr> args;
  if (token_.kind == close) {
    advance();
    return args;
  }
  while (true) {
    args.push_back(expression());
    if (token_.kind != TokenKind::Comma) break;
    advance();
  }
  expect(close, close == TokenKind::RParen ? "to close the call" : "to close the index");
  return args;
}

ast::ExprPtr Parser::primary() {
  if (token_.kind == TokenKind::Int || token_.kind == TokenKind::Float) {
    const bool is_int = token_.kind == TokenKind::Int;
    const Token literal = take();
    ast::ExprPtr expr =
        node(is_int ? ast::Expr::Kind::Int : ast::Expr::Kind::Float, literal.span, {});
    expr->int_value = literal.int_value;
    expr->float_value = literal.float_value;
    return expr;
  }
  if (token_.kind == TokenKind::LParen) {
    const NestingGuard guard(nesting_, token_.span);
    advance();
    ast::ExprPtr inner = expression();
    expect(TokenKind::RParen, "to close '('");
    return inner;
  }
  if (token_.kind == TokenKind::Error) throw SyntaxError{token_.span, token_.error};
  throw SyntaxError{token_.span, fmt::format("expected an expression, got {}", describe(token_))};
}

}  // namespace attnjit
