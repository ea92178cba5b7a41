#include "runtime/row_kernels.hpp"

#include "codegen/hash_order.hpp"
#include "templates/attnjit/fwd_args.h"
#include <attnjit/error.hpp>

#include <algorithm>
#include <limits>
#include <string>

#include <fmt/format.h>

namespace attnjit {
namespace {

constexpr std::size_t kSliceAlign = 256;
constexpr std::int64_t kMaxPermuteBlocks = 8192;

// The row kernels count rows in 32 bits.
void check_row_count(const RowPlanes& planes) {
  if (planes.planes() * planes.rows > std::numeric_limits<std::int32_t>::max()) {
    throw InputError(fmt::format("{} planes of {} rows are more rows than 2^31 - 1",
                                 planes.planes(), planes.rows));
  }
}

// CTAs of either pass of the sort a plane of `rows` rows takes.
std::int64_t sort_chunks(std::int64_t rows) {
  return (rows + codegen::kHashSortChunkRows - 1) / codegen::kHashSortChunkRows;
}

// Lanes permute_words (hash_sparsity.cuh) gives a row of `pieces` words.
std::int64_t permute_lanes(std::int64_t pieces) {
  std::int64_t lanes = 1;
  while (lanes < pieces && lanes < 32) lanes *= 2;
  return lanes;
}

}  // namespace

RowFunctions row_functions(const Module& module) {
  return {module.function(std::string(codegen::kHashCountEntry)),
          module.function(std::string(codegen::kHashSortEntry)),
          module.function(std::string(codegen::kPermuteRowsEntry))};
}

void copy_strides(const DeviceTensor& t, long long (&out)[3], std::int64_t scale) {
  for (int i = 0; i < 3; ++i) out[i] = t.strides[i] * scale;
}

std::size_t ScratchPlan::add(std::int64_t bytes) {
  const std::size_t at = size_;
  size_ += (static_cast<std::size_t>(bytes) + kSliceAlign - 1) / kSliceAlign * kSliceAlign;
  return at;
}

std::int64_t sort_scratch_bytes(std::int64_t planes, std::int64_t rows, int buckets) {
  return planes * sort_chunks(rows) * (buckets + 1) * 4;
}

void sort_rows(const Driver& driver, const RowFunctions& functions, const DeviceTensor& bucket,
               const RowPlanes& planes, std::int64_t order_pitch, CUdeviceptr order,
               CUdeviceptr sorted, CUdeviceptr scratch, CUstream stream) {
  if (planes.planes() == 0 || planes.rows == 0) return;
  check_row_count(planes);
  const std::int64_t chunks = sort_chunks(planes.rows);
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
  args.chunk_rows = codegen::kHashSortChunkRows;
  args.chunks = static_cast<int>(chunks);
  args.counts = static_cast<int*>(device_pointer(scratch));
  void* pointers[] = {&args};
  const Dim3 grid{static_cast<unsigned>(planes.planes() * chunks)};
  launch(driver, functions.count, grid, Dim3{codegen::kHashSortThreads}, 0, stream, pointers);
  launch(driver, functions.sort, grid, Dim3{codegen::kHashSortThreads}, 0, stream, pointers);
}

void permute_rows(const Driver& driver, const RowFunctions& functions, const DeviceTensor& original,
                  const DeviceTensor& compact, std::int64_t element_bytes, std::int64_t row_bytes,
                  const RowPlanes& planes, CUdeviceptr order, bool gather, CUstream stream) {
  if (planes.planes() * planes.rows * row_bytes == 0) return;
  check_row_count(planes);
  // As many threads as rows take lanes of 16-byte words (more loop where words are narrower).
  const std::int64_t threads = planes.planes() * planes.rows * permute_lanes((row_bytes + 15) / 16);
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
      kMaxPermuteBlocks, (threads + codegen::kPermuteThreads - 1) / codegen::kPermuteThreads);
  void* pointers[] = {&args};
  launch(driver, functions.permute, Dim3{static_cast<unsigned>(blocks)},
         Dim3{codegen::kPermuteThreads}, 0, stream, pointers);
}

}  // namespace attnjit
