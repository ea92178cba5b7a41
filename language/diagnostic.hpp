// Located errors, collected while a file is read.
#pragma once

#include "language/lexer.hpp"
#include <attnjit/language.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace attnjit {

class Diagnostics {
 public:
  // Past this many errors in one file, the rest are noise.
  static constexpr std::size_t kMaxErrors = 50;

  Diagnostics(std::string_view source, std::string_view file) : source_(source), file_(file) {}
  void error(const Span& span, std::string message);
  [[nodiscard]] bool full() const { return list_.size() >= kMaxErrors; }
  [[nodiscard]] std::size_t count() const { return list_.size(); }
  std::vector<Diagnostic> take() { return std::move(list_); }

 private:
  std::string_view source_;
  std::string file_;
  std::vector<Diagnostic> list_;
};

}  // namespace attnjit
