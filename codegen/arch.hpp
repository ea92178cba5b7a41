// A CUDA target architecture as NVRTC names it (sm_80, sm_90a, ...), and the
// limits of it that kernel families check their configs against.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace attnjit::codegen {

struct Arch {
  int major = 8;
  int minor = 0;
  bool arch_specific = false;  // the `a` suffix: Hopper's wgmma/setmaxnreg and the like

  [[nodiscard]] std::string name() const;
  [[nodiscard]] int sm() const { return major * 10 + minor; }
  // The most dynamic shared memory one CTA may opt in to, in bytes.
  [[nodiscard]] int max_smem_per_block() const;
};

// Accepts sm_XY and sm_XYa; empty for anything else.
std::optional<Arch> parse_arch(std::string_view name);

}  // namespace attnjit::codegen
