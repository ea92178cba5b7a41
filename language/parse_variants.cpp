// The front end as a table of contents: lex and parse one variant, lower it
// (names, types, declarations), and let the builder fold and canonicalise.
#include "language/diagnostic.hpp"
#include "language/lower.hpp"
#include "language/parser.hpp"
#include <attnjit/language.hpp>

#include <map>

#include <fmt/format.h>

namespace attnjit {

ParseResult parse_variants(std::string_view source, std::string_view filename) {
  Diagnostics diagnostics(source, filename);
  ParseResult result;
  if (source.size() > kMaxSourceBytes) {
    diagnostics.error(Span{0, 1, 1, 1}, fmt::format("file is larger than the limit of {} MiB",
                                                    kMaxSourceBytes >> 20));
    result.errors = diagnostics.take();
    return result;
  }
  Parser parser(source, diagnostics);
  std::map<std::string_view, int, std::less<>> defined;  // name -> line
  bool any = false;
  while (auto parsed = parser.next_variant()) {
    any = true;
    const auto [it, inserted] = defined.emplace(parsed->name.text, parsed->name.span.line);
    if (!inserted) {
      diagnostics.error(parsed->name.span, fmt::format("variant '{}' is already defined on line {}",
                                                       parsed->name.text, it->second));
      continue;
    }
    if (auto variant = lower(*parsed, diagnostics)) result.variants.push_back(std::move(*variant));
  }
  if (!any && diagnostics.count() == 0) {
    diagnostics.error(Span{0, 1, 1, 1}, "no variant in file");
  }
  result.errors = diagnostics.take();
  return result;
}

}  // namespace attnjit
