#include "db/cubin_format.hpp"

#include <cstddef>

namespace attnjit::db {

bool is_cuda_elf(std::span<const char> bytes) {
  constexpr std::size_t kMachineOffset = 18;  // e_machine, in both ELF32 and ELF64
  constexpr unsigned kElfDataLittleEndian = 1;
  constexpr unsigned kEmCuda = 190;
  if (bytes.size() < kMachineOffset + 2) return false;
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(bytes[i]); };
  if (byte(0) != 0x7f || byte(1) != 'E' || byte(2) != 'L' || byte(3) != 'F') return false;
  if (byte(5) != kElfDataLittleEndian) return false;
  return (byte(kMachineOffset) | (byte(kMachineOffset + 1) << 8U)) == kEmCuda;
}

}  // namespace attnjit::db
