#include "runtime/tma_maps.hpp"

#include "codegen/io_rules.hpp"
#include <attnjit/error.hpp>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace attnjit {
namespace {

constexpr std::int64_t kBoxBytes = 128;  // one row of the swizzle

// A map of boxes of 128 bytes by box_rows rows of the 4-D tensor t of
// `element_bytes` elements.
aj::TmaMap tensor_map(const Driver& driver, CUtensorMapDataType type, std::int64_t element_bytes,
                      const char* name, const DeviceTensor& t, cuuint32_t box_rows) {
  for (int i = 0; i < 3; ++i) {
    if (t.strides[i] < 0 || (t.strides[i] * element_bytes) % 16 != 0) {
      throw InputError(fmt::format(
          "{}: the kernel reads it through TMA, which needs batch, head and row strides "
          "that are non-negative multiples of 16 bytes; stride {} is {} elements",
          name, i, t.strides[i]));
    }
  }
  // A zero extent has nothing to read, yet the driver wants every extent >= 1.
  const auto extent = [&](int i) {
    return static_cast<cuuint64_t>(std::max<std::int64_t>(1, t.shape[i]));
  };
  const std::vector<cuuint64_t> dims{extent(3), extent(2), extent(1), extent(0)};
  const std::vector<cuuint64_t> strides{static_cast<cuuint64_t>(t.strides[2] * element_bytes),
                                        static_cast<cuuint64_t>(t.strides[1] * element_bytes),
                                        static_cast<cuuint64_t>(t.strides[0] * element_bytes)};
  const auto box_columns = static_cast<cuuint32_t>(kBoxBytes / element_bytes);
  const CUtensorMap map =
      driver.encode_tiled_map(type, t.data, dims, strides, {box_columns, box_rows, 1, 1});
  static_assert(sizeof(aj::TmaMap) == sizeof(CUtensorMap));
  aj::TmaMap out{};
  std::memcpy(&out, &map, sizeof map);
  return out;
}

CUtensorMapDataType sixteen_bit(const Variant& variant) {
  return variant.dtype() == DType::BF16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16
                                        : CU_TENSOR_MAP_DATA_TYPE_FLOAT16;
}

}  // namespace

aj::FwdMaps fwd_maps(const Driver& driver, const Variant& variant,
                     const codegen::GeneratedKernel& kernel, const DeviceTensor& q,
                     const DeviceTensor& k, const DeviceTensor& v) {
  const auto block_m = static_cast<cuuint32_t>(kernel.block_m);
  const auto block_n = static_cast<cuuint32_t>(kernel.block_n);
  // 8-bit elements are bytes to TMA; 8-bit V is read transposed, head_dim_v rows of keys.
  const CUtensorMapDataType bytes = CU_TENSOR_MAP_DATA_TYPE_UINT8;
  const CUtensorMapDataType halves = sixteen_bit(variant);
  const bool qk8 = codegen::eight_bit_qk(variant);
  const aj::TmaMap v_map =
      codegen::eight_bit_v(variant)
          ? tensor_map(driver, bytes, 1, "v", v, static_cast<cuuint32_t>(variant.head_dim_v()))
          : tensor_map(driver, halves, 2, "v", v, block_n);
  return {tensor_map(driver, qk8 ? bytes : halves, qk8 ? 1 : 2, "q", q, block_m),
          tensor_map(driver, qk8 ? bytes : halves, qk8 ? 1 : 2, "k", k, block_n), v_map};
}

aj::FwdMaps decode_maps(const Driver& driver, const Variant& variant,
                        const codegen::GeneratedKernel& kernel, const DeviceTensor& k,
                        const DeviceTensor& v) {
  const auto block_n = static_cast<cuuint32_t>(kernel.block_n);
  aj::FwdMaps maps{};
  maps.k = tensor_map(driver, sixteen_bit(variant), 2, "k", k, block_n);
  maps.v = tensor_map(driver, sixteen_bit(variant), 2, "v", v, block_n);
  return maps;
}

}  // namespace attnjit
