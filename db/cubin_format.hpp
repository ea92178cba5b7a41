// Whether bytes can be a cubin at all, before a driver is asked to load them.
#pragma once

#include <span>

namespace attnjit::db {

// An ELF file for machine 190 (EM_CUDA), as NVRTC and ptxas write them.
bool is_cuda_elf(std::span<const char> bytes);

}  // namespace attnjit::db
