// Generated source plus the embedded templates: a unit NVRTC can compile.
#pragma once

#include "codegen/kernel_source.hpp"
#include "runtime/nvrtc_compiler.hpp"

namespace attnjit {

KernelSource kernel_job(const codegen::GeneratedKernel& kernel);

}  // namespace attnjit
