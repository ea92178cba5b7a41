#include "runtime/decode_launch.hpp"

#include "codegen/decode_kernel.hpp"
#include "runtime/tma_maps.hpp"
#include <attnjit/error.hpp>

#include <algorithm>
#include <optional>

#include <fmt/format.h>

namespace attnjit {
namespace {

constexpr std::int64_t kScratchAlign = 256;

std::int64_t aligned(std::int64_t bytes) {
  return (bytes + kScratchAlign - 1) / kScratchAlign * kScratchAlign;
}

}  // namespace

std::int64_t decode_cta_count(std::int64_t capacity, std::int64_t segments, std::int64_t tiles,
                              bool equal_segments) {
  std::int64_t ctas = capacity;
  if (equal_segments && segments > 0 && segments <= capacity) {
    const std::int64_t whole = capacity / segments * segments;
    if (whole * 16 >= capacity * 15) ctas = whole;
  }
  return std::max<std::int64_t>(1, std::min(ctas, tiles));
}

void find_decode_functions(const Driver& driver, const Module& module,
                           const codegen::GeneratedKernel& kernel, FwdFunctions& functions) {
  functions.plan = module.function(std::string(codegen::kDecodePlanEntry));
  functions.merge = module.function(std::string(codegen::kDecodeMergeEntry));
  // The occupancy query counts only the dynamic shared memory the kernel may use.
  driver.set_max_dynamic_smem(functions.forward, kernel.smem_bytes);
  const int fit = driver.max_active_blocks(functions.forward, kernel.threads,
                                           static_cast<std::size_t>(kernel.smem_bytes));
  const int per_sm = kernel.decode->ctas_per_sm > 0 ? kernel.decode->ctas_per_sm : fit;
  const int sms =
      driver.attribute(driver.current_device(), CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  functions.decode_ctas = std::max(1, per_sm * sms);
}

void launch_decode(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                   const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                   aj::FwdArgs args, std::vector<std::vector<unsigned char>>& extra,
                   CUstream stream) {
  const AttentionShape& s = problem.shape;
  const std::int64_t rows_total = s.heads / s.kv_heads * s.q_len;
  if (rows_total >= (std::int64_t{1} << 31)) {
    throw InputError("the decode family takes fewer than 2^31 query rows per KV head");
  }
  aj::DecodeArgs decode{};
  if (problem.kv_lens.data != 0) {
    if (problem.kv_lens.shape != std::vector<std::int64_t>{s.batch} ||
        problem.kv_lens.strides != std::vector<std::int64_t>{1}) {
      throw InputError(fmt::format("kv_lens must be a contiguous int32 tensor [{}]", s.batch));
    }
    decode.kv_lens = static_cast<const int*>(device_pointer(problem.kv_lens.data));
  }
  if (kernel.decode->page_size > 0) {
    const DeviceTensor& table = problem.page_table;
    if (table.data == 0) throw InputError("a paged variant needs a page table");
    if (table.shape.size() != 2 || table.shape[0] != s.batch || table.strides[1] != 1 ||
        table.shape[1] * kernel.decode->page_size < s.kv_len) {
      throw InputError(
          fmt::format("page_table must be int32 [{}, at least {}] with contiguous rows", s.batch,
                      (s.kv_len + kernel.decode->page_size - 1) / kernel.decode->page_size));
    }
    decode.page_table = static_cast<const int*>(device_pointer(table.data));
    decode.page_stride = table.strides[0];
    decode.pages = problem.k.shape[0];
  }
  const int rows = kernel.block_m;
  decode.row_blocks = static_cast<int>((rows_total + rows - 1) / rows);
  const std::int64_t segments = s.batch * s.kv_heads * decode.row_blocks;
  const std::int64_t most_tiles = segments * ((s.kv_len + kernel.block_n - 1) / kernel.block_n);
  if (segments > std::int64_t{0x7fffffff}) {
    throw InputError("the problem is beyond the decode family's grid");
  }
  // Without keys the merge alone runs, writing zeros and -inf.
  const std::int64_t ctas =
      decode_cta_count(functions.decode_ctas, segments, most_tiles, decode.kv_lens == nullptr);
  // The kernel cuts its tiles at c * tiles / ctas in 64 bits.
  if (most_tiles > (std::int64_t{1} << 62) / ctas) {
    throw InputError("the problem is beyond the decode family's tile count");
  }
  decode.ctas = static_cast<int>(ctas);

  const std::int64_t slots = segments + ctas;
  const std::int64_t dv = problem.o.shape[3];
  const std::int64_t prefix_bytes =
      decode.kv_lens != nullptr ? aligned((s.batch + 1) * std::int64_t{sizeof(long long)}) : 0;
  const std::int64_t o_bytes = aligned(slots * rows * dv * std::int64_t{sizeof(float)});
  const std::int64_t lse_bytes = aligned(slots * rows * std::int64_t{sizeof(float)});
  const StreamScratch scratch(driver, static_cast<std::size_t>(prefix_bytes + o_bytes + lse_bytes),
                              stream);
  const CUdeviceptr base = scratch.ptr();
  if (decode.kv_lens != nullptr) decode.tile_prefix = static_cast<long long*>(device_pointer(base));
  decode.part_o = static_cast<float*>(device_pointer(base + prefix_bytes));
  decode.part_lse = static_cast<float*>(device_pointer(base + prefix_bytes + o_bytes));

  std::vector<void*> pointers = {&args, &decode};
  if (decode.kv_lens != nullptr) {
    launch(driver, functions.plan, Dim3{1}, Dim3{codegen::kDecodePlanThreads}, 0, stream,
           pointers.data());
  }
  // The plan and merge kernels take no maps: they go to the decode kernel
  // alone, which does not run without keys (K and V may then have no memory).
  std::vector<void*> forward_pointers = pointers;
  aj::FwdMaps maps{};
  if (kernel.tma_maps && most_tiles > 0) {
    maps = decode_maps(driver, variant, kernel, problem.k, problem.v);
    forward_pointers.push_back(&maps);
  }
  for (auto& bytes : extra) {
    pointers.push_back(bytes.data());
    forward_pointers.push_back(bytes.data());
  }
  const LaunchOrder after_kernel =
      functions.overlap ? LaunchOrder::OverlapPrevious : LaunchOrder::AfterPrevious;
  if (most_tiles > 0) {
    launch(driver, functions.forward, Dim3{static_cast<unsigned>(ctas)},
           Dim3{static_cast<unsigned>(kernel.threads)}, static_cast<unsigned>(kernel.smem_bytes),
           stream, forward_pointers.data(),
           decode.kv_lens != nullptr ? after_kernel : LaunchOrder::AfterPrevious);
  }
  // A CTA a segment of equal ones wrote every output itself: no partials.
  if (decode.kv_lens == nullptr && most_tiles > 0 && ctas == segments) return;
  // A merge CTA per packed row that exists: a block has fewer rows than
  // kernel.block_m when the heads of a KV head and the queries are fewer.
  const auto merge_rows = static_cast<unsigned>(std::min<std::int64_t>(rows, rows_total));
  launch(driver, functions.merge, Dim3{static_cast<unsigned>(segments), merge_rows},
         Dim3{codegen::kDecodeMergeThreads}, 0, stream, pointers.data(), after_kernel);
}

}  // namespace attnjit
