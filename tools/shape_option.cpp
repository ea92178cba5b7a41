#include "tools/shape_option.hpp"

#include "tools/cli_error.hpp"

#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace attnjit::cli {

AttentionShape parse_shape(std::string_view text) {
  const std::string_view whole = text;
  std::optional<long long> b;
  std::optional<long long> h;
  std::optional<long long> hkv;
  std::optional<long long> sq;
  std::optional<long long> sk;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const std::size_t eq = item.find('=');
    long long value = 0;
    const std::string_view number = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (eq == std::string_view::npos || ec != std::errc() || end != number.data() + number.size() ||
        value < 0) {
      throw CliError(kBadInput,
                     fmt::format("bad shape item '{}' in '{}': expected KEY=N", item, whole));
    }
    const std::string_view key = item.substr(0, eq);
    std::optional<long long>* slot = key == "b"     ? &b
                                     : key == "h"   ? &h
                                     : key == "hkv" ? &hkv
                                     : key == "sq"  ? &sq
                                     : key == "sk"  ? &sk
                                                    : nullptr;
    if (slot == nullptr) {
      throw CliError(kBadInput,
                     fmt::format("unknown shape key '{}' (keys: b, h, hkv, sq, sk)", key));
    }
    *slot = value;
  }
  if (!b || !h || !sq) {
    throw CliError(kBadInput, fmt::format("shape '{}' needs at least b, h and sq", whole));
  }
  AttentionShape shape{*b, *h, hkv.value_or(*h), *sq, sk.value_or(*sq)};
  if (shape.batch < 1 || shape.heads < 1 || shape.kv_heads < 1 ||
      shape.heads % shape.kv_heads != 0) {
    throw CliError(kBadInput,
                   fmt::format("shape '{}' needs b, h, hkv >= 1 with hkv dividing h", whole));
  }
  return shape;
}

}  // namespace attnjit::cli
