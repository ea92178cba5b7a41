// Kernel records that look real to the store without NVRTC: the cubin is an
// ELF64 header for EM_CUDA followed by bytes derived from the record's seed,
// so that a reader can tell a complete record from a torn one.
#pragma once

#include "db/kernel_store.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnjit::db::testing {

// A fake cubin of `size` bytes (at least the 64-byte header).
std::vector<char> fake_cubin(std::uint64_t seed, std::size_t size);

// Record number `n`: variant n % variants, config n, the rest derived from n.
KernelRecord synthetic_kernel(int n, std::size_t cubin_bytes = 4096, int variants = 3);

}  // namespace attnjit::db::testing
