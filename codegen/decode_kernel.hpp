// The generator of the decode family: a variant and a DecodeConfig as a CUDA
// translation unit over templates/attnjit/fwd_decode.cuh, with its plan and
// merge kernels beside the decode kernel.
#pragma once

#include "codegen/arch.hpp"
#include "codegen/decode_config.hpp"
#include "codegen/kernel_source.hpp"
#include <attnjit/variant.hpp>

#include <string_view>

namespace attnjit::codegen {

inline constexpr std::string_view kDecodePlanEntry = "attnjit_decode_plan";
inline constexpr std::string_view kDecodeMergeEntry = "attnjit_decode_merge";
inline constexpr int kDecodePlanThreads = 1024;
inline constexpr int kDecodeMergeThreads = 128;

// Throws SpecError listing every rule the config breaks for the variant or arch.
GeneratedKernel decode_kernel(const Variant& variant, const DecodeConfig& config, const Arch& arch);

}  // namespace attnjit::codegen
