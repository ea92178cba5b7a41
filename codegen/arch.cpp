#include "codegen/arch.hpp"

#include <charconv>

#include <fmt/format.h>

namespace attnjit::codegen {

std::string Arch::name() const {
  return fmt::format("sm_{}{}{}", major, minor, arch_specific ? "a" : "");
}

int Arch::max_smem_per_block() const {
  // From the CUDA programming guide's table of compute capabilities.
  switch (sm()) {
    case 80:
    case 87: return 163 * 1024;
    case 90:
    case 100:
    case 103: return 227 * 1024;
    default: return 99 * 1024;  // 8.6, 8.9, 12.x
  }
}

std::optional<Arch> parse_arch(std::string_view name) {
  if (name.substr(0, 3) != "sm_") return std::nullopt;
  name.remove_prefix(3);
  Arch arch;
  if (!name.empty() && name.back() == 'a') {
    arch.arch_specific = true;
    name.remove_suffix(1);
  }
  int number = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), number);
  if (ec != std::errc() || end != name.data() + name.size() || number < 80 || number > 129) {
    return std::nullopt;
  }
  arch.major = number / 10;
  arch.minor = number % 10;
  return arch;
}

}  // namespace attnjit::codegen
