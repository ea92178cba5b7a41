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
  return out;
}

bool fp8_inputs(const Variant& variant) {
  return variant.dtype() == DType::FP8E4M3 || variant.dtype() == DType::FP8E5M2;
}

int input_bytes(const Variant& variant) { return fp8_inputs(variant) ? 1 : 2; }

}  // namespace attnjit::codegen
