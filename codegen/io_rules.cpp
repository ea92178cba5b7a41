#include "codegen/io_rules.hpp"

#include <fmt/format.h>

namespace attnjit::codegen {

std::vector<std::string> sixteen_bit_io(const Variant& variant, std::string_view family) {
  std::vector<std::string> out;
  if (variant.dtype() != DType::F16 && variant.dtype() != DType::BF16) {
    out.push_back(
        fmt::format("{} takes fp16 or bf16 inputs, not {}", family, dtype_name(variant.dtype())));
  }
  if (variant.out_dtype() != DType::F16 && variant.out_dtype() != DType::BF16) {
    out.push_back(
        fmt::format("{} writes fp16 or bf16, not {}", family, dtype_name(variant.out_dtype())));
  }
  if (variant.quant()) {
    out.push_back(fmt::format("{} has no quantised products: quant sage runs in fa3_sm90", family));
  }
  return out;
}

bool fp8_inputs(const Variant& variant) {
  return variant.dtype() == DType::FP8E4M3 || variant.dtype() == DType::FP8E5M2;
}

int input_bytes(const Variant& variant) { return fp8_inputs(variant) ? 1 : 2; }

bool eight_bit_qk(const Variant& variant) {
  return fp8_inputs(variant) || variant.quant().has_value();
}

bool eight_bit_v(const Variant& variant) {
  return fp8_inputs(variant) || (variant.quant() && variant.quant()->pv == DType::FP8E4M3);
}

ProductTypes product_types(const Variant& variant) {
  if (variant.quant()) {
    if (eight_bit_v(variant)) return {"s8", "e4m3"};
    return {"s8", variant.dtype() == DType::BF16 ? "bf16" : "f16"};
  }
  switch (variant.dtype()) {
    case DType::F16: return {"f16", "f16"};
    case DType::BF16: return {"bf16", "bf16"};
    case DType::FP8E4M3: return {"e4m3", "e4m3"};
    case DType::FP8E5M2: break;
  }
  return {"e5m2", "e5m2"};
}

}  // namespace attnjit::codegen
