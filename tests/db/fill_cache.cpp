// Prepares caches for the `attnjit cache` lit tests without NVRTC or a GPU:
//   fill_cache fill DIR COUNT [FIRST]   puts synthetic kernels FIRST.. (default 0)
//   fill_cache flip DIR ID              damages one byte of kernel ID's cubin
//   fill_cache age DIR ID DAYS          moves kernel ID's last use DAYS into the past
//   fill_cache tune DIR LOG2_LEN        adds a tuning record for variant 0
#include "db/cache_location.hpp"
#include "db/kernel_store.hpp"
#include "tests/db/raw_edits.hpp"
#include "tests/db/synthetic_kernels.hpp"

#include <exception>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace attnjit::db;

constexpr std::int64_t kDay = std::int64_t{24} * 3600;

int usage() {
  std::cerr << "usage: fill_cache fill DIR COUNT [FIRST] | flip DIR ID | age DIR ID DAYS | "
               "tune DIR LOG2_LEN\n";
  return 2;
}

int run(const std::vector<std::string>& args) {
  if (args.size() < 3) return usage();
  const std::string& mode = args[0];
  const std::filesystem::path dir = args[1];
  std::filesystem::create_directories(dir);
  const std::filesystem::path file = database_file(dir);
  const int value = std::stoi(args[2]);
  if (mode == "fill" && args.size() <= 4) {
    const int first = args.size() == 4 ? std::stoi(args[3]) : 0;
    KernelStore store(file);
    for (int n = first; n < first + value; ++n) store.put(testing::synthetic_kernel(n));
  } else if (mode == "flip" && args.size() == 3) {
    testing::flip_cubin_byte(file, value, 100);
  } else if (mode == "age" && args.size() == 4) {
    testing::age_kernel(file, value, std::stoll(args[3]) * kDay);
  } else if (mode == "tune" && args.size() == 3) {
    TuningRecord record;
    const KernelKey key = testing::synthetic_kernel(0).key;
    record.key = {
        key.variant_hash, key.family, "NVIDIA H100 80GB HBM3", key.toolchain, {value, value, 5}};
    record.config = key.config;
    record.best_ms = 1.5;
    KernelStore(file).put_tuning(record);
  } else {
    return usage();
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& error) {
    std::cerr << "fill_cache: " << error.what() << "\n";
    return 1;
  }
}
