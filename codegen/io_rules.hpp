// Rules on a variant's inputs and outputs that every 16-bit kernel family shares.
#pragma once

#include <attnjit/variant.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace attnjit::codegen {

// Why `family` cannot read the variant's Q, K, V or write its O: inputs and
// output must be fp16 or bf16. Empty when it can.
std::vector<std::string> sixteen_bit_io(const Variant& variant, std::string_view family);

}  // namespace attnjit::codegen
