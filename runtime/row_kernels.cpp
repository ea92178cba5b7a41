#include "runtime/row_kernels.hpp"

#include "codegen/hash_order.hpp"
#include "templates/attnjit/fwd_args.h"

#include <algorithm>

namespace attnjit {
namespace {

constexpr std::size_t kSliceAlign = 256;
constexpr std::int64_t kMaxPermuteBlocks = 8192;

}  // namespace

void copy_strides(const DeviceTensor& t, long long (&out)[3], std::int64_t scale) {
  for (int i = 0; i < 3; ++i) out[i] = t.strides[i] * scale;
}

std::size_t ScratchPlan::add(std::int64_t bytes) {
  const std::size_t at = size_;
  size_ += (static_cast<std::size_t>(bytes) + kSliceAlign - 1) / kSliceAlign * kSliceAlign;
  return at;
}

void sort_rows(const Driver& driver, CUfunction sort, const DeviceTensor& bucket,
               const RowPlanes& planes, std::int64_t order_pitch, CUdeviceptr order,
               CUdeviceptr sorted, CUstream stream) {
  if (planes.planes() == 0 || planes.rows == 0) return;
  aj::HashSortArgs args{};
  args.bucket = static_cast<const int*>(device_pointer(bucket.data));
  copy_strides(bucket, args.stride);
  args.heads = static_cast<int>(planes.heads);
  args.segments = static_cast<int>(planes.segments);
  args.first = planes.first;
  args.step = planes.step;
  args.valid_rows = planes.valid_rows;
  args.rows = static_cast<int>(planes.rows);
  args.order_pitch = static_cast<int>(order_pitch);
  args.order = static_cast<int*>(device_pointer(order));
  args.sorted_bucket = sorted == 0 ? nullptr : static_cast<int*>(device_pointer(sorted));
  void* pointers[] = {&args};
  launch(driver, sort, Dim3{static_cast<unsigned>(planes.planes())},
         Dim3{codegen::kHashSortThreads}, 0, stream, pointers);
}

void permute_rows(const Driver& driver, CUfunction permute, const DeviceTensor& original,
                  const DeviceTensor& compact, std::int64_t element_bytes, std::int64_t row_bytes,
                  const RowPlanes& planes, CUdeviceptr order, bool gather, CUstream stream) {
  const std::int64_t words = planes.planes() * planes.rows * row_bytes / 4;
  if (words == 0) return;
  aj::PermuteRowsArgs args{};
  const DeviceTensor& src = gather ? original : compact;
  const DeviceTensor& dst = gather ? compact : original;
  args.src = static_cast<const unsigned char*>(device_pointer(src.data));
  args.dst = static_cast<unsigned char*>(device_pointer(dst.data));
  copy_strides(src, args.src_stride, element_bytes);
  copy_strides(dst, args.dst_stride, element_bytes);
  args.order = static_cast<const int*>(device_pointer(order));
  args.heads = static_cast<int>(planes.heads);
  args.segments = static_cast<int>(planes.segments);
  args.valid_rows = planes.valid_rows;
  args.rows = static_cast<int>(planes.rows);
  args.planes = static_cast<int>(planes.planes());
  args.row_bytes = static_cast<int>(row_bytes);
  args.gather = gather ? 1 : 0;
  const std::int64_t blocks = std::min(
      kMaxPermuteBlocks, (words + codegen::kPermuteThreads - 1) / codegen::kPermuteThreads);
  void* pointers[] = {&args};
  launch(driver, permute, Dim3{static_cast<unsigned>(blocks)}, Dim3{codegen::kPermuteThreads}, 0,
         stream, pointers);
}

}  // namespace attnjit
