#include <attnjit/error.hpp>
#include <attnjit/tensor_view.hpp>

#include <dlpack/dlpack.h>
#include <fmt/format.h>

namespace attnjit {
namespace {

// DLPack 0.8 added bool as type code 6, and 1.1 the fp8 codes (PyTorch's
// float8_e4m3fn and float8_e5m2 export as these); the header Debian ships is
// older.
constexpr std::uint8_t kDLBoolCode = 6;
constexpr std::uint8_t kDLFloat8E4M3FnCode = 10;
constexpr std::uint8_t kDLFloat8E5M2Code = 12;

std::optional<ElemType> elem_type(DLDataType type) {
  if (type.lanes != 1) return std::nullopt;
  switch (type.code) {
    case kDLFloat:
      if (type.bits == 16) return ElemType::F16;
      if (type.bits == 32) return ElemType::F32;
      return std::nullopt;
    case kDLBfloat: return type.bits == 16 ? std::optional(ElemType::BF16) : std::nullopt;
    case kDLInt: return type.bits == 32 ? std::optional(ElemType::I32) : std::nullopt;
    case kDLUInt: return type.bits == 8 ? std::optional(ElemType::U8) : std::nullopt;
    case kDLBoolCode: return type.bits == 8 ? std::optional(ElemType::Bool) : std::nullopt;
    case kDLFloat8E4M3FnCode:
      return type.bits == 8 ? std::optional(ElemType::F8E4M3) : std::nullopt;
    case kDLFloat8E5M2Code: return type.bits == 8 ? std::optional(ElemType::F8E5M2) : std::nullopt;
    default: return std::nullopt;
  }
}

std::vector<std::int64_t> compact_strides(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

}  // namespace

TensorView contiguous_view(void* data, ElemType dtype, std::vector<std::int64_t> shape,
                           int device) {
  std::vector<std::int64_t> strides = compact_strides(shape);
  return TensorView{data, dtype, std::move(shape), std::move(strides), device};
}

TensorView from_dlpack(const DLTensor& tensor) {
  if (tensor.device.device_type != kDLCUDA && tensor.device.device_type != kDLCUDAManaged) {
    throw InputError("a DLPack tensor for attnjit must live in CUDA memory");
  }
  const std::optional<ElemType> dtype = elem_type(tensor.dtype);
  if (!dtype) {
    throw InputError(
        fmt::format("DLPack type (code {}, {} bits, {} lanes) is none of attnjit's "
                    "f16, bf16, f32, i32, u8, bool, fp8_e4m3 (e4m3fn), fp8_e5m2",
                    tensor.dtype.code, tensor.dtype.bits, tensor.dtype.lanes));
  }
  if (tensor.ndim < 0 || (tensor.ndim > 0 && tensor.shape == nullptr)) {
    throw InputError("a DLPack tensor without a shape");
  }
  const auto rank = static_cast<std::size_t>(tensor.ndim);
  std::vector<std::int64_t> shape(tensor.shape, tensor.shape + rank);
  std::vector<std::int64_t> strides =
      tensor.strides == nullptr ? compact_strides(shape)
                                : std::vector<std::int64_t>(tensor.strides, tensor.strides + rank);
  void* data = static_cast<char*>(tensor.data) + tensor.byte_offset;
  return TensorView{data, *dtype, std::move(shape), std::move(strides), tensor.device.device_id};
}

}  // namespace attnjit
