// Launches of the row kernels that hash sparsity and approx hyper share
// (templates/attnjit/hash_sparsity.cuh): a stable sort of rows by bucket and
// row gathers and scatters between a [batch, heads, rows, *] tensor and
// compact planes, and the scratch both lay out.
#pragma once

#include "runtime/fwd_launch.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace attnjit {

// Pieces of one stream-ordered allocation, laid out before it is made.
class ScratchPlan {
 public:
  std::size_t add(std::int64_t bytes);
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  std::size_t size_ = 0;
};

// The strides of a tensor's first three dimensions, times `scale` (bytes per
// stride unit, where a kernel takes byte strides), as the row kernels' args hold them.
void copy_strides(const DeviceTensor& t, long long (&out)[3], std::int64_t scale = 1);

// Compact planes over a [batch, heads, rows] tensor, as HashSortArgs (fwd_args.h)
// describes them: `segments` runs of `rows` rows per (batch, head), the j-th
// from row first + j * step; rows at or past valid_rows are padding.
struct RowPlanes {
  std::int64_t batch = 0;
  std::int64_t heads = 0;
  std::int64_t segments = 1;
  std::int64_t rows = 0;
  std::int64_t first = 0;
  std::int64_t step = 0;
  std::int64_t valid_rows = 0;
  [[nodiscard]] std::int64_t planes() const { return batch * segments * heads; }
};

// The row kernels of a module (codegen::row_kernels_source).
struct RowFunctions {
  CUfunction count = nullptr;  // the sort's first pass
  CUfunction sort = nullptr;
  CUfunction permute = nullptr;
};
RowFunctions row_functions(const Module& module);

// Bytes of scratch sort_rows needs for `planes` planes of `rows` rows over
// `buckets` buckets: the first pass's counts.
std::int64_t sort_scratch_bytes(std::int64_t planes, std::int64_t rows, int buckets);

// Sorts each plane's rows by the int32 ids of `bucket` ([batch, heads, *])
// into order ([planes, order_pitch]; the (batch, head) row of each sorted row)
// and, unless it is 0, sorted ([planes, rows]: their ids). `scratch` holds
// sort_scratch_bytes for the module's buckets (codegen::row_kernels_source).
void sort_rows(const Driver& driver, const RowFunctions& functions, const DeviceTensor& bucket,
               const RowPlanes& planes, std::int64_t order_pitch, CUdeviceptr order,
               CUdeviceptr sorted, CUdeviceptr scratch, CUstream stream);

// Rows of `row_bytes` between `original` ([batch, heads, *, ...]) and
// `compact` ([planes / heads, heads, rows, ...]), whose strides are in
// `element_bytes` units: compact row r of plane p is original row
// order[p * planes.rows + r]. Gather fills compact, scatter original.
void permute_rows(const Driver& driver, const RowFunctions& functions, const DeviceTensor& original,
                  const DeviceTensor& compact, std::int64_t element_bytes, std::int64_t row_bytes,
                  const RowPlanes& planes, CUdeviceptr order, bool gather, CUstream stream);

}  // namespace attnjit
