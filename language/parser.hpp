// Recursive-descent parser of LANGUAGE.md's grammar, one variant at a time.
#pragma once

#include "language/ast.hpp"
#include "language/diagnostic.hpp"
#include "language/lexer.hpp"

#include <optional>
#include <string_view>

namespace attnjit {

class Parser {
 public:
  Parser(std::string_view source, Diagnostics& diagnostics);

  // The next variant that parsed cleanly; syntax errors are reported and the
  // broken variant skipped. Empty at the end of the file.
  std::optional<ast::Variant> next_variant();

 private:
  std::optional<ast::Variant> variant();
  ast::Statement statement();
  void statement_body(ast::Statement& statement);
  ast::ExprPtr expression();
  ast::ExprPtr ternary();
  ast::ExprPtr binary(int level);
  ast::ExprPtr unary();
  ast::ExprPtr postfix();
  ast::ExprPtr primary();
  std::vector<ast::ExprPtr> arguments(TokenKind close);
  ast::Dim dim();
  // `(key=value, ...)` after `approx hyper` or `quant sage`, if there: the
  // keys named in `keys`, values ints or names.
  void named_args(ast::Statement& statement, std::string_view keys, bool int_values);

  void advance();
  Token take();
  Token expect(TokenKind kind, std::string_view context);
  Token expect_name(std::string_view what);
  [[nodiscard]] bool at_word(std::string_view word) const;
  void skip_statement();
  void skip_to_variant();

  Lexer lexer_;
  Diagnostics& diagnostics_;
  Token token_;
  int nesting_ = 0;
};

}  // namespace attnjit
