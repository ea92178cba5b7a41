#include "language/diagnostic.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace attnjit {
namespace {

// Lines longer than this are shown as a window around the column.
constexpr std::size_t kShownWidth = 120;

// Terminal-safe: control and non-ASCII bytes become '?', one byte each, so
// the caret still lines up.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto byte = static_cast<unsigned char>(c);
    if (c != '\t' && (byte < 0x20 || byte >= 0x7f)) c = '?';
  }
  return out;
}

}  // namespace

void Diagnostics::error(const Span& span, std::string message) {
  if (full()) return;
  const std::size_t offset = std::min(span.offset, source_.size());
  const std::size_t column = static_cast<std::size_t>(std::max(span.column, 1)) - 1;
  const std::size_t start = offset >= column ? offset - column : 0;
  std::size_t end = source_.find('\n', offset);
  if (end == std::string_view::npos) end = source_.size();
  Diagnostic diagnostic;
  diagnostic.file = file_;
  diagnostic.location = SourceLocation{span.line, span.column, std::max(span.length, 1)};
  diagnostic.message = std::move(message);
  diagnostic.source_line = std::string(source_.substr(start, end - start));
  if (!diagnostic.source_line.empty() && diagnostic.source_line.back() == '\r') {
    diagnostic.source_line.pop_back();
  }
  list_.push_back(std::move(diagnostic));
}

std::string Diagnostic::render() const {
  const std::string_view line = source_line;
  auto column = static_cast<std::size_t>(std::max(location.column, 1)) - 1;
  std::size_t first = 0;
  std::string prefix;
  std::string suffix;
  if (line.size() > kShownWidth) {
    first = column > kShownWidth / 2 ? column - kShownWidth / 2 : 0;
    first = std::min(first, line.size() - kShownWidth);
    prefix = first > 0 ? "..." : "";
    suffix = first + kShownWidth < line.size() ? "..." : "";
  }
  const std::string_view shown = line.substr(first, std::min(kShownWidth, line.size() - first));
  column = std::min(column - std::min(column, first), shown.size());
  const std::size_t length =
      std::clamp<std::size_t>(static_cast<std::size_t>(location.length), 1,
                              std::max<std::size_t>(shown.size() - column, 1));

  // Tabs in the line stay tabs under it, so the caret lands where the eye does.
  std::string pad = prefix.empty() ? "" : std::string(prefix.size(), ' ');
  for (std::size_t i = 0; i < column; ++i) pad += shown[i] == '\t' ? '\t' : ' ';
  return fmt::format("{}:{}:{}: error: {}\n{}{}{}\n{}^{}\n", file, location.line, location.column,
                     message, prefix, printable(shown), suffix, pad, std::string(length - 1, '~'));
}

}  // namespace attnjit
