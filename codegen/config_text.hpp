// The K=V,... text of a config, as the families' parsers read it.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace attnjit::codegen {

// The items in order; throws SpecError for an item that is not KEY=INTEGER.
std::vector<std::pair<std::string_view, int>> config_items(std::string_view text);

}  // namespace attnjit::codegen
