#include "runtime/hash_launch.hpp"

#include "codegen/hash_order.hpp"
#include "runtime/row_kernels.hpp"
#include "templates/attnjit/fwd_args.h"
#include <attnjit/error.hpp>

#include <algorithm>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace attnjit {
namespace {

constexpr std::int64_t kElementBytes = 2;  // the families' 16-bit Q, K, V and O

// A [batch, heads, rows] int32 tensor's bucket LSH plane count.
std::int64_t planes(const DeviceTensor& t) { return t.shape[0] * t.shape[1]; }

void lsh(const Driver& driver, const HashFunctions& hash, const DeviceTensor& x, int head_dim,
         const DeviceTensor& out, CUstream stream) {
  aj::LshArgs args{};
  args.x = static_cast<const unsigned short*>(device_pointer(x.data));
  copy_strides(x, args.stride);
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

// Every row of a [batch, heads, rows] plane, as one segment.
RowPlanes whole_planes(std::int64_t batch, std::int64_t heads, std::int64_t rows) {
  RowPlanes out;
  out.batch = batch;
  out.heads = heads;
  out.rows = rows;
  out.valid_rows = rows;
  return out;
}

// A 3-dimensional view of the float LSE [batch, heads, q_len] as rows of one float.
DeviceTensor lse_rows(CUdeviceptr data, const AttentionShape& s) {
  return contiguous(data, 0, {s.batch, s.heads, s.q_len});
}

}  // namespace

HashFunctions hash_functions(const Module& module) {
  return {row_functions(module), module.function(std::string(codegen::kLshEntry))};
}

void launch_hash(const Driver& driver, const FwdFunctions& functions, const HashFunctions& hash,
                 const Variant& variant, const Variant* sorted,
                 const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                 CUstream stream) {
  check_fwd_tensors(variant, kernel.decode.has_value(), problem);
  const AttentionShape& s = problem.shape;
  const std::string q_name(kQueryBucketTensor);
  const std::string k_name(kKeyBucketTensor);
  const bool has_q = problem.tensors.contains(q_name);
  const bool has_k = problem.tensors.contains(k_name);
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
  std::size_t q_order = 0;
  std::size_t k_order = 0;
  std::size_t q_sorted = 0;
  std::size_t k_sorted = 0;
  std::size_t q_copy = 0;
  std::size_t k_copy = 0;
  std::size_t v_copy = 0;
  std::size_t o_copy = 0;
  std::size_t lse_copy = 0;
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
  // One after the other on the stream, the two sorts share their scratch.
  const int buckets = variant.hash_sparsity()->buckets;
  const std::size_t sort_scratch =
      sorted == nullptr
          ? 0
          : plan.add(std::max(sort_scratch_bytes(s.batch * s.heads, s.q_len, buckets),
                              sort_scratch_bytes(s.batch * s.kv_heads, s.kv_len, buckets)));
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
  const RowPlanes q_planes = whole_planes(s.batch, s.heads, s.q_len);
  const RowPlanes k_planes = whole_planes(s.batch, s.kv_heads, s.kv_len);
  sort_rows(driver, hash.rows, run.tensors.at(q_name), q_planes, s.q_len, q_order_t.data,
            q_sorted_t.data, base + sort_scratch, stream);
  sort_rows(driver, hash.rows, run.tensors.at(k_name), k_planes, s.kv_len, k_order_t.data,
            k_sorted_t.data, base + sort_scratch, stream);

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
  permute_rows(driver, hash.rows, problem.q, reordered.q, kElementBytes, d * kElementBytes,
               q_planes, q_order_t.data, true, stream);
  permute_rows(driver, hash.rows, problem.k, reordered.k, kElementBytes, d * kElementBytes,
               k_planes, k_order_t.data, true, stream);
  permute_rows(driver, hash.rows, problem.v, reordered.v, kElementBytes, dv * kElementBytes,
               k_planes, k_order_t.data, true, stream);
  launch_fwd(driver, functions, *sorted, kernel, reordered, stream);
  permute_rows(driver, hash.rows, problem.o, reordered.o, kElementBytes, dv * kElementBytes,
               q_planes, q_order_t.data, false, stream);
  if (problem.lse != 0) {
    permute_rows(driver, hash.rows, lse_rows(problem.lse, s), lse_rows(reordered.lse, s), 4, 4,
                 q_planes, q_order_t.data, false, stream);
  }
}

}  // namespace attnjit
