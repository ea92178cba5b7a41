#include "language/lexer.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <utility>

#include <fmt/format.h>

namespace attnjit {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c); }

// For a decimal literal that from_chars found out of range: whether it is too
// large (rather than too small), from the position of its first significant
// digit and its exponent.
bool overflows(std::string_view text) {
  const std::size_t e = text.find_first_of("eE");
  const std::string_view mantissa = text.substr(0, e);
  std::int64_t exponent = 0;
  if (e != std::string_view::npos) {
    std::string_view digits = text.substr(e + 1);
    const bool negative = !digits.empty() && digits.front() == '-';
    if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) {
      digits.remove_prefix(1);
    }
    const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
    if (ec == std::errc::result_out_of_range) return !negative;
    if (negative) exponent = -exponent;
  }
  const std::size_t point = std::min(mantissa.find('.'), mantissa.size());
  const std::size_t first = mantissa.find_first_of("123456789");
  if (first == std::string_view::npos) return false;
  const auto magnitude = first < point ? static_cast<std::int64_t>(point - first)
                                       : -static_cast<std::int64_t>(first - point - 1);
  // magnitude + exponent > 0, without overflowing for an exponent near INT64_MAX.
  return exponent > -magnitude;
}

constexpr std::size_t kMaxIdentLength = 128;

struct Punct {
  std::string_view text;
  TokenKind kind;
};

// Two-byte operators first, so that `<=` is not read as `<` then `=`.
constexpr std::array kPuncts = {
    Punct{"<=", TokenKind::LessEqual},  Punct{">=", TokenKind::GreaterEqual},
    Punct{"==", TokenKind::EqualEqual}, Punct{"!=", TokenKind::NotEqual},
    Punct{"&&", TokenKind::AndAnd},     Punct{"||", TokenKind::OrOr},
    Punct{"{", TokenKind::LBrace},      Punct{"}", TokenKind::RBrace},
    Punct{"(", TokenKind::LParen},      Punct{")", TokenKind::RParen},
    Punct{"[", TokenKind::LBracket},    Punct{"]", TokenKind::RBracket},
    Punct{";", TokenKind::Semicolon},   Punct{":", TokenKind::Colon},
    Punct{",", TokenKind::Comma},       Punct{"=", TokenKind::Assign},
    Punct{"?", TokenKind::Question},    Punct{"+", TokenKind::Plus},
    Punct{"-", TokenKind::Minus},       Punct{"*", TokenKind::Star},
    Punct{"/", TokenKind::Slash},       Punct{"%", TokenKind::Percent},
    Punct{"!", TokenKind::Bang},        Punct{"<", TokenKind::Less},
    Punct{">", TokenKind::Greater},
};

std::string describe_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (std::isprint(byte) != 0) return fmt::format("character '{}'", c);
  return fmt::format("byte 0x{:02x}", byte);
}

}  // namespace

std::string_view token_spelling(TokenKind kind) {
  for (const Punct& punct : kPuncts) {
    if (punct.kind == kind) return punct.text;
  }
  switch (kind) {
    case TokenKind::End: return "end of file";
    case TokenKind::Ident: return "a name";
    case TokenKind::Int: return "an integer";
    case TokenKind::Float: return "a number";
    default: return "a token";
  }
}

char Lexer::peek(std::size_t ahead) const {
  return pos_ + ahead < source_.size() ? source_[pos_ + ahead] : '\0';
}

void Lexer::skip_space_and_comments() {
  while (pos_ < source_.size()) {
    const char c = source_[pos_];
    if (c == '\n') {
      ++pos_;
      ++line_;
      line_start_ = pos_;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      ++pos_;
    } else if (c == '#') {
      while (pos_ < source_.size() && source_[pos_] != '\n') ++pos_;
    } else {
      return;
    }
  }
}

Token Lexer::make(TokenKind kind, Span span, std::size_t length) {
  span.length = static_cast<int>(length);
  Token token;
  token.kind = kind;
  token.text = source_.substr(span.offset, length);
  token.span = span;
  pos_ = span.offset + length;
  return token;
}

Token Lexer::next() {
  skip_space_and_comments();
  Span span;
  span.offset = pos_;
  span.line = line_;
  span.column = static_cast<int>(pos_ - line_start_) + 1;
  if (pos_ >= source_.size()) return make(TokenKind::End, span, 0);

  const char c = source_[pos_];
  if (is_ident_start(c)) {
    std::size_t end = pos_;
    while (end < source_.size() && is_ident_char(source_[end])) ++end;
    Token token = make(TokenKind::Ident, span, end - span.offset);
    if (token.text.size() > kMaxIdentLength) {
      token.kind = TokenKind::Error;
      token.error = fmt::format("name is longer than {} characters", kMaxIdentLength);
    }
    return token;
  }
  if (is_digit(c)) return number(span);
  for (const Punct& punct : kPuncts) {
    if (source_.substr(pos_, punct.text.size()) == punct.text) {
      return make(punct.kind, span, punct.text.size());
    }
  }
  Token token = make(TokenKind::Error, span, 1);
  token.error = "unexpected " + describe_byte(c);
  return token;
}

Token Lexer::number(Span span) {
  std::size_t end = pos_;
  auto digits = [&] {
    while (end < source_.size() && is_digit(source_[end])) ++end;
  };
  digits();
  bool is_float = false;
  if (end < source_.size() && source_[end] == '.') {
    is_float = true;
    ++end;
    digits();
  }
  if (end < source_.size() && (source_[end] == 'e' || source_[end] == 'E')) {
    std::size_t exp = end + 1;
    if (exp < source_.size() && (source_[exp] == '+' || source_[exp] == '-')) ++exp;
    if (exp < source_.size() && is_digit(source_[exp])) {
      is_float = true;
      end = exp;
      digits();
    }
  }
  while (end < source_.size() && is_ident_char(source_[end])) ++end;
  Token token = make(is_float ? TokenKind::Float : TokenKind::Int, span, end - span.offset);
  const char* first = token.text.data();
  const char* last = first + token.text.size();
  auto fail = [&token](std::string message) {
    token.kind = TokenKind::Error;
    token.error = std::move(message);
    return token;
  };
  if (is_float) {
    double value = 0;
    const auto [ptr, ec] = std::from_chars(first, last, value);
    if (ptr != last) return fail(fmt::format("malformed number '{}'", token.text));
    // Underflow to zero is harmless; only overflow loses the value.
    const bool too_large = ec == std::errc::result_out_of_range
                               ? overflows(token.text)
                               : std::isinf(static_cast<float>(value));
    if (too_large) return fail("float literal is out of range for float");
    token.float_value = ec == std::errc::result_out_of_range ? 0.0F : static_cast<float>(value);
    return token;
  }
  const auto [ptr, ec] = std::from_chars(first, last, token.int_value);
  if (ptr != last) return fail(fmt::format("malformed number '{}'", token.text));
  if (ec == std::errc::result_out_of_range) {
    return fail("integer literal is too large for a 64-bit int");
  }
  return token;
}

}  // namespace attnjit
