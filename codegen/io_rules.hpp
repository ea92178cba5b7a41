// Rules on a variant's inputs and outputs that the kernel families share.
#pragma once

#include <attnjit/variant.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace attnjit::codegen {

// Why a 16-bit `family` cannot read the variant's Q, K, V or write its O:
// inputs and output must be fp16 or bf16, and unquantised. Empty when it can.
std::vector<std::string> sixteen_bit_io(const Variant& variant, std::string_view family);

// Whether Q, K and V are fp8 (e4m3 or e5m2) as given, and their bytes per element.
bool fp8_inputs(const Variant& variant);
int input_bytes(const Variant& variant);

// Whether the Hopper kernel reads 8-bit Q and K: fp8 inputs, or quant
// sage's int8 codes, which the runtime quantises from 16-bit ones.
bool eight_bit_qk(const Variant& variant);
// Whether it reads fp8 V transposed and rounds P to e4m3: fp8 inputs, or
// quant sage with pv=fp8_e4m3 (the runtime lays V out so).
bool eight_bit_v(const Variant& variant);

// The element types of the Hopper kernel's products in wgmma's spelling
// ("f16", "bf16", "e4m3", "e5m2", "s8"): of Q and K, and of V.
struct ProductTypes {
  std::string_view qk;
  std::string_view v;
};
ProductTypes product_types(const Variant& variant);

}  // namespace attnjit::codegen
