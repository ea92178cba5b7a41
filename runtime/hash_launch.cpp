#include "runtime/hash_launch.hpp"

#include "codegen/hash_order.hpp"
#include "templates/attnjit/fwd_args.h"
#include <attnjit/error.hpp>

#include <algorithm>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace attnjit {
namespace {

constexpr std::size_t kSliceAlign = 256;
constexpr std::int64_t kMaxPermuteBlocks = 8192;
constexpr std::int64_t kElementBytes = 2;  // the families' 16-bit Q, K, V and O

// Pieces of one stream-ordered allocation, laid out before it is made.
class ScratchPlan {
 public:
  std::size_t add(std::int64_t bytes) {
    const std::size_t at = size_;
    size_ += (static_cast<std::size_t>(bytes) + kSliceAlign - 1) / kSliceAlign * kSliceAlign;
    return at;
  }
  [[nodiscard]] std::size_t size() const { return size_; }

 private:
  std::size_t size_ = 0;
};

DeviceTensor contiguous(CUdeviceptr base, std::size_t offset, std::vector<std::int64_t> shape) {
  DeviceTensor t;
  t.data = base + offset;
  t.strides.assign(shape.size(), 1);
  for (std::size_t d = shape.size() - 1; d > 0; --d) t.strides[d - 1] = t.strides[d] * shape[d];
  t.shape = std::move(shape);
  return t;
}

void copy_strides(const DeviceTensor& t, long long (&out)[3], std::int64_t scale) {
  for (int i = 0; i < 3; ++i) out[i] = t.strides[i] * scale;
}

// A [batch, heads, rows] int32 tensor's bucket LSH, sort or permutation
// plane count.
std::int64_t planes(const DeviceTensor& t) { return t.shape[0] * t.shape[1]; }

void lsh(const Driver& driver, const HashFunctions& hash, const DeviceTensor& x, int head_dim,
         const DeviceTensor& out, CUstream stream) {
  aj::LshArgs args{};
  args.x = static_cast<const unsigned short*>(device_pointer(x.data));
  copy_strides(x, args.stride, 1);
  args.heads = static_cast<int>(x.shape[1]);
  args.rows = static_cast<int>(x.shape[2]);
  args.planes = static_cast<int>(planes(x));
  args.head_dim = head_dim;
  args.bucket = static_cast<int*>(device_pointer(out.data));
  const std::int64_t threads = static_cast<std::int64_t>(args.planes) * args.rows * 32;
  if (threads == 0) return;
  void* pointers[] = {&args};
  launch(driver, hash.lsh,
         Dim3{static_cast<unsigned>((threads + codegen::kLshThreads - 1) / codegen::kLshThreads)},
         Dim3{codegen::kLshThreads}, 0, stream, pointers);
}

void sort(const Driver& driver, const HashFunctions& hash, const DeviceTensor& bucket,
          const DeviceTensor& order, const DeviceTensor& sorted, CUstream stream) {
  aj::HashSortArgs args{};
  args.bucket = static_cast<const int*>(device_pointer(bucket.data));
  copy_strides(bucket, args.stride, 1);
  args.heads = static_cast<int>(bucket.shape[1]);
  args.rows = static_cast<int>(bucket.shape[2]);
  args.order = static_cast<int*>(device_pointer(order.data));
  args.sorted_bucket = static_cast<int*>(device_pointer(sorted.data));
  if (planes(bucket) == 0 || args.rows == 0) return;
  void* pointers[] = {&args};
  launch(driver, hash.sort, Dim3{static_cast<unsigned>(planes(bucket))},
         Dim3{codegen::kHashSortThreads}, 0, stream, pointers);
}

// Rows of `row_bytes` between two [batch, heads, rows, ...] tensors whose
// strides are in `element_bytes` units.
void permute(const Driver& driver, const HashFunctions& hash, const DeviceTensor& src,
             const DeviceTensor& dst, std::int64_t element_bytes, std::int64_t row_bytes,
             const DeviceTensor& order, bool gather, CUstream stream) {
  aj::PermuteRowsArgs args{};
  args.src = static_cast<const unsigned char*>(device_pointer(src.data));
  args.dst = static_cast<unsigned char*>(device_pointer(dst.data));
  copy_strides(src, args.src_stride, element_bytes);
  copy_strides(dst, args.dst_stride, element_bytes);
  args.order = static_cast<const int*>(device_pointer(order.data));
  args.heads = static_cast<int>(order.shape[1]);
  args.rows = static_cast<int>(order.shape[2]);
  args.planes = static_cast<int>(planes(order));
  args.row_bytes = static_cast<int>(row_bytes);
  args.gather = gather ? 1 : 0;
  const std::int64_t words = planes(order) * args.rows * row_bytes / 4;
  if (words == 0) return;
  const std::int64_t blocks = std::min(
      kMaxPermuteBlocks, (words + codegen::kPermuteThreads - 1) / codegen::kPermuteThreads);
  void* pointers[] = {&args};
  launch(driver, hash.permute, Dim3{static_cast<unsigned>(blocks)}, Dim3{codegen::kPermuteThreads},
         0, stream, pointers);
}

// A 3-dimensional view of the float LSE [batch, heads, q_len] as rows of one float.
DeviceTensor lse_rows(CUdeviceptr data, const AttentionShape& s) {
  return contiguous(data, 0, {s.batch, s.heads, s.q_len});
}

}  // namespace

HashFunctions hash_functions(const Module& module) {
  return {module.function(std::string(codegen::kHashSortEntry)),
          module.function(std::string(codegen::kPermuteRowsEntry)),
          module.function(std::string(codegen::kLshEntry))};
}

void launch_hash(const Driver& driver, const FwdFunctions& functions, const HashFunctions& hash,
                 const Variant& variant, const Variant* sorted,
                 const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                 CUstream stream) {
  check_fwd_tensors(variant, kernel.decode.has_value(), problem);
  const AttentionShape& s = problem.shape;
  const std::string q_name(kQueryBucketTensor);
  const std::string k_name(kKeyBucketTensor);
  const bool has_q = problem.tensors.count(q_name) != 0;
  const bool has_k = problem.tensors.count(k_name) != 0;
  if (has_q != has_k) {
    throw InputError(
        fmt::format("variant '{}': give both '{}' and '{}', or neither to hash Q and K",
                    variant.name(), q_name, k_name));
  }
  const std::int64_t d = variant.head_dim();
  const std::int64_t dv = variant.head_dim_v();
  const std::int64_t q_rows = s.batch * s.heads * s.q_len;
  const std::int64_t k_rows = s.batch * s.kv_heads * s.kv_len;

  ScratchPlan plan;
  const std::size_t q_lsh = has_q ? 0 : plan.add(q_rows * 4);
  const std::size_t k_lsh = has_k ? 0 : plan.add(k_rows * 4);
  std::size_t q_order = 0, k_order = 0, q_sorted = 0, k_sorted = 0, q_copy = 0, k_copy = 0,
              v_copy = 0, o_copy = 0, lse_copy = 0;
  if (sorted != nullptr) {
    q_order = plan.add(q_rows * 4);
    k_order = plan.add(k_rows * 4);
    q_sorted = plan.add(q_rows * 4);
    k_sorted = plan.add(k_rows * 4);
    q_copy = plan.add(q_rows * d * kElementBytes);
    k_copy = plan.add(k_rows * d * kElementBytes);
    v_copy = plan.add(k_rows * dv * kElementBytes);
    o_copy = plan.add(q_rows * dv * kElementBytes);
    if (problem.lse != 0) lse_copy = plan.add(q_rows * 4);
  }
  const std::optional<StreamScratch> scratch =
      plan.size() == 0 ? std::nullopt
                       : std::optional<StreamScratch>(std::in_place, driver, plan.size(), stream);
  const CUdeviceptr base = scratch ? scratch->ptr() : 0;

  FwdProblem run = problem;
  if (!has_q) {
    run.tensors[q_name] = contiguous(base, q_lsh, {s.batch, s.heads, s.q_len});
    run.tensors[k_name] = contiguous(base, k_lsh, {s.batch, s.kv_heads, s.kv_len});
    lsh(driver, hash, problem.q, static_cast<int>(d), run.tensors[q_name], stream);
    lsh(driver, hash, problem.k, static_cast<int>(d), run.tensors[k_name], stream);
  }
  if (sorted == nullptr) {
    launch_fwd(driver, functions, variant, kernel, run, stream);
    return;
  }

  // The buckets' tensors must have their declared shapes before the sort reads them.
  for (const auto& [name, rows] : {std::pair{q_name, std::vector{s.batch, s.heads, s.q_len}},
                                   std::pair{k_name, std::vector{s.batch, s.kv_heads, s.kv_len}}}) {
    const DeviceTensor& t = run.tensors.at(name);
    if (t.shape != rows || t.strides.size() != 3) {
      throw InputError(
          fmt::format("tensor '{}' must have shape [{}, {}, {}]", name, rows[0], rows[1], rows[2]));
    }
  }
  const DeviceTensor q_order_t = contiguous(base, q_order, {s.batch, s.heads, s.q_len});
  const DeviceTensor k_order_t = contiguous(base, k_order, {s.batch, s.kv_heads, s.kv_len});
  const DeviceTensor q_sorted_t = contiguous(base, q_sorted, {s.batch, s.heads, s.q_len});
  const DeviceTensor k_sorted_t = contiguous(base, k_sorted, {s.batch, s.kv_heads, s.kv_len});
  sort(driver, hash, run.tensors.at(q_name), q_order_t, q_sorted_t, stream);
  sort(driver, hash, run.tensors.at(k_name), k_order_t, k_sorted_t, stream);

  FwdProblem reordered = run;
  reordered.q = contiguous(base, q_copy, {s.batch, s.heads, s.q_len, d});
  reordered.k = contiguous(base, k_copy, {s.batch, s.kv_heads, s.kv_len, d});
  reordered.v = contiguous(base, v_copy, {s.batch, s.kv_heads, s.kv_len, dv});
  reordered.o = contiguous(base, o_copy, {s.batch, s.heads, s.q_len, dv});
  reordered.lse = problem.lse != 0 ? base + lse_copy : 0;
  reordered.tensors[q_name] = q_sorted_t;
  reordered.tensors[k_name] = k_sorted_t;
  reordered.tensors[std::string(kQueryOrderTensor)] = q_order_t;
  reordered.tensors[std::string(kKeyOrderTensor)] = k_order_t;
  permute(driver, hash, problem.q, reordered.q, kElementBytes, d * kElementBytes, q_order_t, true,
          stream);
  permute(driver, hash, problem.k, reordered.k, kElementBytes, d * kElementBytes, k_order_t, true,
          stream);
  permute(driver, hash, problem.v, reordered.v, kElementBytes, dv * kElementBytes, k_order_t, true,
          stream);
  launch_fwd(driver, functions, *sorted, kernel, reordered, stream);
  permute(driver, hash, reordered.o, problem.o, kElementBytes, dv * kElementBytes, q_order_t, false,
          stream);
  if (problem.lse != 0) {
    permute(driver, hash, lse_rows(reordered.lse, s), lse_rows(problem.lse, s), 4, 4, q_order_t,
            false, stream);
  }
}

}  // namespace attnjit
