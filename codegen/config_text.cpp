#include "codegen/config_text.hpp"

#include <attnjit/error.hpp>

#include <charconv>

#include <fmt/format.h>

namespace attnjit::codegen {

std::vector<std::pair<std::string_view, int>> config_items(std::string_view text) {
  std::vector<std::pair<std::string_view, int>> out;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const std::size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      throw SpecError(fmt::format("config item '{}' is not KEY=VALUE", item));
    }
    const std::string_view key = item.substr(0, eq);
    const std::string_view value = item.substr(eq + 1);
    int number = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (ec != std::errc() || end != value.data() + value.size()) {
      throw SpecError(fmt::format("config value '{}' of '{}' is not an integer", value, key));
    }
    out.emplace_back(key, number);
  }
  return out;
}

}  // namespace attnjit::codegen
