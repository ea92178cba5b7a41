// Splits `.attn` text into tokens, one at a time, so that memory stays
// proportional to the longest token rather than to the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace attnjit {

// Where a piece of source text is: enough to quote its line and underline it.
struct Span {
  std::size_t offset = 0;  // byte offset of the first byte
  int line = 1;
  int column = 1;
  int length = 1;
};

enum class TokenKind : std::uint8_t {
  End,
  Error,  // a malformed token; `error` says why
  Ident,
  Int,
  Float,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Semicolon,
  Colon,
  Comma,
  Assign,
  Question,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  Bang,
  Less,
  LessEqual,
  Greater,
  GreaterEqual,
  EqualEqual,
  NotEqual,
  AndAnd,
  OrOr,
};

struct Token {
  TokenKind kind = TokenKind::End;
  std::string_view text;
  Span span;
  std::int64_t int_value = 0;
  float float_value = 0;
  std::string error;
};

// How a token kind is written, for messages ("expected ';'").
std::string_view token_spelling(TokenKind kind);

class Lexer {
 public:
  explicit Lexer(std::string_view source) : source_(source) {}
  Token next();

 private:
  void skip_space_and_comments();
  Token number(Span span);
  Token make(TokenKind kind, Span span, std::size_t length);
  [[nodiscard]] char peek(std::size_t ahead = 0) const;

  std::string_view source_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::size_t line_start_ = 0;
};

}  // namespace attnjit
