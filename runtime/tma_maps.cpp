#include "runtime/tma_maps.hpp"

#include <attnjit/error.hpp>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace attnjit {
namespace {

constexpr std::int64_t kElementBytes = 2;
constexpr cuuint32_t kBoxColumns = 64;  // 128 bytes: one row of the swizzle

aj::TmaMap tensor_map(const Driver& driver, CUtensorMapDataType type, const char* name,
                      const DeviceTensor& t, cuuint32_t box_rows) {
  for (int i = 0; i < 3; ++i) {
    if (t.strides[i] < 0 || (t.strides[i] * kElementBytes) % 16 != 0) {
      throw InputError(fmt::format(
          "{}: the fa3_sm90 kernel reads through TMA, which needs batch, head and row strides "
          "that are non-negative multiples of 8 elements; stride {} is {}",
          name, i, t.strides[i]));
    }
  }
  // A zero extent has nothing to read, yet the driver wants every extent >= 1.
  const auto extent = [&](int i) {
    return static_cast<cuuint64_t>(std::max<std::int64_t>(1, t.shape[i]));
  };
  const std::vector<cuuint64_t> dims{extent(3), extent(2), extent(1), extent(0)};
  const std::vector<cuuint64_t> strides{static_cast<cuuint64_t>(t.strides[2] * kElementBytes),
                                        static_cast<cuuint64_t>(t.strides[1] * kElementBytes),
                                        static_cast<cuuint64_t>(t.strides[0] * kElementBytes)};
  const CUtensorMap map =
      driver.encode_tiled_map(type, t.data, dims, strides, {kBoxColumns, box_rows, 1, 1});
  static_assert(sizeof(aj::TmaMap) == sizeof(CUtensorMap));
  aj::TmaMap out{};
  std::memcpy(&out, &map, sizeof map);
  return out;
}

}  // namespace

aj::FwdMaps fwd_maps(const Driver& driver, const Variant& variant,
                     const codegen::GeneratedKernel& kernel, const FwdProblem& problem) {
  const CUtensorMapDataType type = variant.dtype() == DType::BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                                                  : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
  const auto block_m = static_cast<cuuint32_t>(kernel.block_m);
  const auto block_n = static_cast<cuuint32_t>(kernel.block_n);
  return {tensor_map(driver, type, "q", problem.q, block_m),
          tensor_map(driver, type, "k", problem.k, block_n),
          tensor_map(driver, type, "v", problem.v, block_n)};
}

}  // namespace attnjit
