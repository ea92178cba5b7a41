// Rules on a variant's inputs and outputs that the kernel families share.
#pragma once

#include <attnjit/variant.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace attnjit::codegen {

// Why `family` cannot read the variant's Q, K, V or write its O: inputs and
// output must be fp16 or bf16. Empty when it can.
std::vector<std::string> sixteen_bit_io(const Variant& variant, std::string_view family);

// Whether Q, K and V are fp8 (e4m3 or e5m2), and their bytes per element.
bool fp8_inputs(const Variant& variant);
int input_bytes(const Variant& variant);

}  // namespace attnjit::codegen
