#include "tests/db/synthetic_kernels.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>

namespace attnjit::db::testing {

std::vector<char> fake_cubin(std::uint64_t seed, std::size_t size) {
  constexpr std::size_t kHeaderBytes = 64;
  std::vector<char> cubin(std::max(size, kHeaderBytes));
  const char ident[] = {0x7f, 'E', 'L', 'F', 2 /* ELF64 */, 1 /* little endian */, 1};
  std::copy(std::begin(ident), std::end(ident), cubin.begin());
  cubin[16] = 2;                       // e_type: executable
  cubin[18] = static_cast<char>(190);  // e_machine: EM_CUDA
  std::uint64_t state = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (std::size_t i = kHeaderBytes; i < cubin.size(); ++i) {
    state ^= state << 13U;
    state ^= state >> 7U;
    state ^= state << 17U;
    cubin[i] = static_cast<char>(state);
  }
  return cubin;
}

KernelRecord synthetic_kernel(int n, std::size_t cubin_bytes, int variants) {
  const int variant = n % variants;
  KernelRecord record;
  record.key = {fmt::format("{:016x}", 0xa11ce000 + variant), "fa2_sm80",
                fmt::format("bm=128,bn=64,warps=4,n={}", n), "sm_90a", "nvrtc-13.0;-O3;tpl-1"};
  record.variant_name = fmt::format("variant{}", variant);
  record.canonical =
      fmt::format("dtype bf16;\nhead_dim 128;\nmask causal;\nparam v: i32 = {};\n", variant);
  record.source =
      fmt::format("// kernel {}\nextern \"C\" __global__ void attnjit_fwd_{}() {{}}\n", n, n);
  record.source_hash = checksum_hex(record.source.data(), record.source.size());
  record.launch = {fmt::format("attnjit_fwd_{}", n), 128, 49152 + n, 128};
  record.usage = {128 + n % 64, 1024, n % 5 == 0 ? 8 : 0, 16, 100.5 + n};
  record.cubin = fake_cubin(static_cast<std::uint64_t>(n), cubin_bytes);
  return record;
}

}  // namespace attnjit::db::testing
