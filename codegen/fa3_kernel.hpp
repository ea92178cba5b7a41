// The generator of the Hopper family: a variant and a Fa3Config as a CUDA
// translation unit over templates/attnjit/fwd_sm90.cuh.
#pragma once

#include "codegen/arch.hpp"
#include "codegen/fa3_config.hpp"
#include "codegen/kernel_source.hpp"
#include <attnjit/variant.hpp>

namespace attnjit::codegen {

// Throws SpecError listing every rule the config breaks for the variant or arch.
GeneratedKernel fa3_kernel(const Variant& variant, const Fa3Config& config, const Arch& arch);

}  // namespace attnjit::codegen
