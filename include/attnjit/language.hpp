// The text front end: `.attn` source to checked variants, or located errors.
#pragma once

#include <attnjit/variant.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace attnjit {

struct SourceLocation {
  int line = 1;    // 1-based
  int column = 1;  // 1-based, in bytes
  int length = 1;  // bytes the caret line underlines
};

struct Diagnostic {
  std::string file;
  SourceLocation location;
  std::string message;
  std::string source_line;  // the whole line the error is on

  // The compilers' form: `file:line:col: error: message`, the line, a caret.
  [[nodiscard]] std::string render() const;
};

struct ParseResult {
  std::vector<Variant> variants;  // every variant that is valid, in file order
  std::vector<Diagnostic> errors;
  [[nodiscard]] bool ok() const { return errors.empty(); }
};

// Files larger than this are refused with an error rather than read.
inline constexpr std::size_t kMaxSourceBytes = std::size_t{16} << 20;

ParseResult parse_variants(std::string_view source, std::string_view filename);

}  // namespace attnjit
