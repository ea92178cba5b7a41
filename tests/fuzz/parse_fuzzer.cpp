// libFuzzer target for the text front end (run by scripts/test.sh):
//
//   build/fuzz/tests/fuzz/parse_fuzzer -dict=tests/fuzz/dict.txt CORPUS_DIR
//
// Properties checked on every input, beyond "no crash, no hang, no sanitizer
// report, bounded memory" (LANGUAGE.md, Errors):
//   - every diagnostic names this file with a line and column >= 1, and renders;
//   - every parsed variant round-trips: its canonical form, wrapped in a variant
//     block, parses again without error to one variant with the same canonical
//     form and the same hash.
#include <attnjit/language.hpp>
#include <attnjit/variant.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kFile = "fuzz.attn";

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::cerr << "parse_fuzzer: " << what << '\n' << detail << std::endl;
  std::abort();
}

void check_diagnostic(const attnjit::Diagnostic& diagnostic) {
  const std::string text = diagnostic.render();
  if (diagnostic.file != kFile || diagnostic.location.line < 1 || diagnostic.location.column < 1 ||
      diagnostic.location.length < 0) {
    fail("diagnostic without a proper file:line:column", text);
  }
  if (text.rfind(std::string(kFile) + ":", 0) != 0) {
    fail("rendered diagnostic does not start with the file name", text);
  }
}

void check_round_trip(const attnjit::Variant& variant) {
  const std::string text = "variant x {\n" + variant.canonical() + "\n}\n";
  const attnjit::ParseResult again = attnjit::parse_variants(text, "canonical.attn");
  if (!again.ok()) {
    std::string detail = text;
    for (const auto& diagnostic : again.errors) detail += diagnostic.render() + "\n";
    fail("canonical form does not parse", detail);
  }
  if (again.variants.size() != 1) fail("canonical form does not give one variant", text);
  const attnjit::Variant& second = again.variants.front();
  if (second.canonical() != variant.canonical()) {
    fail("canonical form is not a fixed point", text + "-- re-parsed as --\n" + second.canonical());
  }
  if (second.hash() != variant.hash()) {
    fail("hash changed on re-parse", text + variant.hash() + " vs " + second.hash());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer hands us bytes
  const std::string_view source(reinterpret_cast<const char*>(data), size);
  const attnjit::ParseResult result = attnjit::parse_variants(source, kFile);
  for (const auto& diagnostic : result.errors) check_diagnostic(diagnostic);
  for (const auto& variant : result.variants) check_round_trip(variant);
  return 0;
}
