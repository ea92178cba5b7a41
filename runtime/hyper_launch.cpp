#include "runtime/hyper_launch.hpp"

#include "codegen/hash_order.hpp"
#include "codegen/hyper_kernels.hpp"
#include "language/hyper_plan.hpp"
#include "runtime/row_kernels.hpp"
#include "templates/attnjit/fwd_args.h"
#include <attnjit/error.hpp>

#include <algorithm>
#include <array>
#include <optional>
#include <string>

#include <fmt/format.h>

namespace attnjit {
namespace {

constexpr std::int64_t kElementBytes = 2;  // the families' 16-bit Q, K, V and O
// The hash kernel walks the rows with a grid of about two waves of the GPU,
// so that each CTA's table of directions serves many rows.
constexpr std::int64_t kMaxHashBlocks = 2048;

unsigned blocks_for(std::int64_t threads) {
  return static_cast<unsigned>((threads + codegen::kHyperThreads - 1) / codegen::kHyperThreads);
}

// The code of every row of x ([batch, heads, rows, d]) into `code` ([batch, heads, rows]).
void hash_rows(const Driver& driver, const HyperFunctions& hyper, const DeviceTensor& x, int d,
               const DeviceTensor& code, CUstream stream) {
  aj::HyperHashArgs args{};
  args.x = static_cast<const unsigned short*>(device_pointer(x.data));
  copy_strides(x, args.stride);
  args.heads = static_cast<int>(x.shape[1]);
  args.rows = static_cast<int>(x.shape[2]);
  args.planes = static_cast<int>(x.shape[0] * x.shape[1]);
  args.head_dim = d;
  args.code = static_cast<int*>(device_pointer(code.data));
  const std::int64_t threads = std::int64_t{args.planes} * args.rows * aj::kHyperRowLanes;
  if (threads == 0) return;
  void* pointers[] = {&args};
  launch(driver, hyper.hash, Dim3{std::min(blocks_for(threads), unsigned{kMaxHashBlocks})},
         Dim3{codegen::kHyperThreads}, 0, stream, pointers);
}

// Where the levels' pieces lie in the scratch: the rows' codes, the sorted
// orders and the draws' blocks, the compact Q, K, V, O and LSE, and the sorts'.
struct LevelSlices {
  std::size_t q_code = 0;
  std::size_t k_code = 0;
  std::size_t q_order = 0;
  std::size_t k_order = 0;
  std::size_t sample_block = 0;
  std::size_t q = 0;
  std::size_t k = 0;
  std::size_t v = 0;
  std::size_t o = 0;
  std::size_t lse = 0;
  std::size_t drawn_o = 0;
  std::size_t drawn_lse = 0;
  std::size_t sort = 0;  // the sorts' scratch
};

// Params and the sample-block tensor that tell the kernel which part it runs.
void tell_part(FwdProblem& run, std::int64_t q_block, std::int64_t block, std::int64_t keys,
               bool causal, DeviceTensor sample_block) {
  run.params[std::string(codegen::kHyperQueryBlockParam)] = static_cast<std::int32_t>(q_block);
  run.params[std::string(codegen::kHyperBlockParam)] = static_cast<std::int32_t>(block);
  run.params[std::string(codegen::kHyperKeysParam)] = static_cast<std::int32_t>(keys);
  run.params[std::string(codegen::kHyperCausalParam)] = causal;
  run.tensors[std::string(codegen::kHyperSampleBlockTensor)] = std::move(sample_block);
}

// Rows first .. first + count - 1 of each plane of a compact [planes, pitch,
// width] tensor (element `bytes` wide), as [batch, heads, count, width].
DeviceTensor pitch_rows(CUdeviceptr data, std::int64_t batch, std::int64_t heads,
                        std::int64_t pitch, std::int64_t first, std::int64_t count,
                        std::int64_t width, std::int64_t bytes) {
  return {data + static_cast<CUdeviceptr>(first * width * bytes),
          {batch, heads, count, width},
          {heads * pitch * width, pitch * width, width, 1}};
}

// Rows first .. first + count * rows - 1 of batch entry b of a [batch, heads,
// rows, d] 16-bit tensor, as `count` entries of `rows` rows.
DeviceTensor chunk_rows(const DeviceTensor& t, std::int64_t b, std::int64_t first,
                        std::int64_t count, std::int64_t rows) {
  return {
      t.data + static_cast<CUdeviceptr>((b * t.strides[0] + first * t.strides[2]) * kElementBytes),
      {count, t.shape[1], rows, t.shape[3]},
      {rows * t.strides[2], t.strides[1], t.strides[2], t.strides[3]}};
}

}  // namespace

HyperFunctions hyper_functions(const Module& module) {
  return {row_functions(module), module.function(std::string(codegen::kHyperHashEntry)),
          module.function(std::string(codegen::kHyperSamplesEntry)),
          module.function(std::string(codegen::kHyperMergeEntry))};
}

void launch_hyper(const Driver& driver, const FwdFunctions& functions, const HyperFunctions& hyper,
                  const Variant& variant, const Variant& kernel_variant,
                  const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                  CUstream stream) {
  check_fwd_tensors(variant, false, problem);
  if (problem.kv_lens.data != 0) {
    throw InputError(fmt::format(
        "variant '{}': approx hyper on a prefill family takes no ragged batch (kv_lens)",
        variant.name()));
  }
  const AttentionShape& s = problem.shape;
  const bool causal = hyper_is_causal(variant);
  const HyperPlan plan = hyper_plan(*variant.hyper(), causal, s.q_len, s.kv_len);
  const std::int64_t d = variant.head_dim();
  const std::int64_t dv = variant.head_dim_v();

  // Every causal level has as many compact rows as the next; one slice each serves all.
  // The sorts, one after the other on the stream, share their scratch too.
  const int buckets = 1 << variant.hyper()->lsh_bits;
  std::int64_t q_compact = 0;
  std::int64_t k_compact = 0;
  std::int64_t sort_bytes = 0;
  for (const HyperLevel& level : plan.levels) {
    q_compact = std::max(q_compact, level.segments * level.q_rows);
    k_compact = std::max(k_compact, level.segments * (level.k_rows + level.samples));
    sort_bytes = std::max(
        {sort_bytes, sort_scratch_bytes(s.batch * level.segments * s.heads, level.q_rows, buckets),
         sort_scratch_bytes(s.batch * level.segments * s.kv_heads, level.k_rows, buckets)});
  }
  const std::int64_t q_planes = s.batch * s.heads;
  const std::int64_t k_planes = s.batch * s.kv_heads;
  ScratchPlan layout;
  const std::size_t dummy_block = layout.add(4);
  const bool own_lse = problem.lse == 0 && !plan.levels.empty();
  const std::size_t lse_at = own_lse ? layout.add(q_planes * s.q_len * 4) : 0;
  LevelSlices at;
  if (!plan.levels.empty()) {
    at.q_code = layout.add(q_planes * s.q_len * 4);
    at.k_code = layout.add(k_planes * s.kv_len * 4);
    at.q_order = layout.add(q_planes * q_compact * 4);
    at.k_order = layout.add(k_planes * k_compact * 4);
    at.sample_block = layout.add(k_planes * k_compact * 4);
    at.q = layout.add(q_planes * q_compact * d * kElementBytes);
    at.k = layout.add(k_planes * k_compact * d * kElementBytes);
    at.v = layout.add(k_planes * k_compact * dv * kElementBytes);
    at.o = layout.add(q_planes * q_compact * dv * kElementBytes);
    at.lse = layout.add(q_planes * q_compact * 4);
    at.drawn_o = layout.add(q_planes * q_compact * dv * kElementBytes);
    at.drawn_lse = layout.add(q_planes * q_compact * 4);
    at.sort = layout.add(sort_bytes);
  }
  const StreamScratch scratch(driver, layout.size(), stream);
  const CUdeviceptr base = scratch.ptr();
  const CUdeviceptr lse = own_lse ? base + lse_at : problem.lse;

  if (plan.exact_chunk > 0) {
    // Keys below hyper_keys only: the sample blocks are never read, so one
    // element serves every index.
    driver.memset_d8_async(base + dummy_block, 0xff, 4, stream);
    const auto exact = [&](FwdProblem run) {
      const AttentionShape& r = run.shape;
      tell_part(run, plan.exact_chunk, plan.exact_chunk, r.kv_len, causal,
                DeviceTensor{base + dummy_block, {r.batch, r.kv_heads, r.kv_len}, {0, 0, 0}});
      launch_fwd(driver, functions, kernel_variant, kernel, run, stream);
    };
    if (plan.levels.empty()) {
      FwdProblem run = problem;
      run.lse = lse;
      exact(run);
    } else {
      // The causal recursion's chunks (q_len == kv_len) as a batch of their
      // own, a launch per batch entry and one more for a shorter last chunk:
      // over the whole sequence, the classifier and the tile walk would see
      // (q_len / chunk)^2 times the tiles.
      const std::int64_t chunk = plan.exact_chunk;
      const std::int64_t whole = s.q_len / chunk;
      for (std::int64_t b = 0; b < s.batch; ++b) {
        for (const auto& [first, count, rows] :
             {std::array{std::int64_t{0}, whole, chunk},
              std::array{whole * chunk, std::int64_t{1}, s.q_len - whole * chunk}}) {
          if (count == 0 || rows == 0) continue;
          FwdProblem run = problem;
          run.shape = AttentionShape{count, s.heads, s.kv_heads, rows, rows};
          run.q = chunk_rows(problem.q, b, first, count, rows);
          run.k = chunk_rows(problem.k, b, first, count, rows);
          run.v = chunk_rows(problem.v, b, first, count, rows);
          run.o = chunk_rows(problem.o, b, first, count, rows);
          run.lse = lse + static_cast<CUdeviceptr>((b * s.heads * s.q_len + first) * 4);
          run.lse_strides = std::array{rows, s.q_len};
          exact(run);
        }
      }
    }
  }
  if (plan.levels.empty()) return;

  const DeviceTensor q_codes = contiguous(base, at.q_code, {s.batch, s.heads, s.q_len});
  const DeviceTensor k_codes = contiguous(base, at.k_code, {s.batch, s.kv_heads, s.kv_len});
  hash_rows(driver, hyper, problem.q, static_cast<int>(d), q_codes, stream);
  hash_rows(driver, hyper, problem.k, static_cast<int>(d), k_codes, stream);

  for (std::size_t index = 0; index < plan.levels.size(); ++index) {
    const HyperLevel& level = plan.levels[index];
    const std::int64_t pitch = level.k_rows + level.samples;
    const std::int64_t batch = s.batch * level.segments;
    RowPlanes q_rows{s.batch,       s.heads,    level.segments, level.q_rows,
                     level.q_first, level.step, s.q_len};
    RowPlanes k_rows{s.batch,       s.kv_heads, level.segments, level.k_rows,
                     level.k_first, level.step, s.kv_len};
    sort_rows(driver, hyper.rows, q_codes, q_rows, level.q_rows, base + at.q_order, 0,
              base + at.sort, stream);
    sort_rows(driver, hyper.rows, k_codes, k_rows, pitch, base + at.k_order, 0, base + at.sort,
              stream);

    aj::HyperSampleArgs draws{};
    draws.order = static_cast<int*>(device_pointer(base + at.k_order));
    draws.sample_block = static_cast<int*>(device_pointer(base + at.sample_block));
    draws.planes = static_cast<int>(k_rows.planes());
    draws.k_rows = static_cast<int>(level.k_rows);
    draws.samples = static_cast<int>(level.samples);
    draws.block = static_cast<int>(level.block);
    draws.seed = static_cast<unsigned>(index + 1);
    // -1 everywhere: the sorted keys' entries; the kernel writes the draws'.
    driver.memset_d8_async(base + at.sample_block, 0xff,
                           static_cast<std::size_t>(k_rows.planes() * pitch * 4), stream);
    void* draw_pointers[] = {&draws};
    launch(driver, hyper.samples, Dim3{static_cast<unsigned>(k_rows.planes())},
           Dim3{codegen::kHyperThreads}, 0, stream, draw_pointers);

    // The compact K and V hold each plane's sorted keys, then its drawn keys.
    const DeviceTensor q_compact_t = contiguous(base, at.q, {batch, s.heads, level.q_rows, d});
    const DeviceTensor k_compact_t = contiguous(base, at.k, {batch, s.kv_heads, pitch, d});
    const DeviceTensor v_compact_t = contiguous(base, at.v, {batch, s.kv_heads, pitch, dv});
    k_rows.rows = pitch;
    permute_rows(driver, hyper.rows, problem.q, q_compact_t, kElementBytes, d * kElementBytes,
                 q_rows, base + at.q_order, true, stream);
    permute_rows(driver, hyper.rows, problem.k, k_compact_t, kElementBytes, d * kElementBytes,
                 k_rows, base + at.k_order, true, stream);
    permute_rows(driver, hyper.rows, problem.v, v_compact_t, kElementBytes, dv * kElementBytes,
                 k_rows, base + at.k_order, true, stream);

    // The diagonal blocks, then the drawn keys: each a launch over its keys.
    const auto part = [&](std::int64_t first, std::int64_t count, std::size_t o_at,
                          std::size_t lse_at) {
      FwdProblem run = problem;
      run.shape = AttentionShape{batch, s.heads, s.kv_heads, level.q_rows, count};
      run.q = q_compact_t;
      run.k = pitch_rows(base + at.k, batch, s.kv_heads, pitch, first, count, d, kElementBytes);
      run.v = pitch_rows(base + at.v, batch, s.kv_heads, pitch, first, count, dv, kElementBytes);
      run.o = contiguous(base, o_at, {batch, s.heads, level.q_rows, dv});
      run.lse = base + lse_at;
      tell_part(run, level.q_block, level.block, first == 0 ? count : 0, false,
                DeviceTensor{base + at.sample_block + static_cast<CUdeviceptr>(first * 4),
                             {batch, s.kv_heads, count},
                             {s.kv_heads * pitch, pitch, 1}});
      launch_fwd(driver, functions, kernel_variant, kernel, run, stream);
    };
    part(0, level.k_rows, at.o, at.lse);
    if (level.samples > 0) part(level.k_rows, level.samples, at.drawn_o, at.drawn_lse);

    aj::HyperMergeArgs merge{};
    merge.part = static_cast<const unsigned short*>(device_pointer(base + at.o));
    merge.part_lse = static_cast<const float*>(device_pointer(base + at.lse));
    if (level.samples > 0) {
      merge.drawn = static_cast<const unsigned short*>(device_pointer(base + at.drawn_o));
      merge.drawn_lse = static_cast<const float*>(device_pointer(base + at.drawn_lse));
      merge.drawn_log_weight = static_cast<float>(level.log_weight());
    }
    merge.order = static_cast<const int*>(device_pointer(base + at.q_order));
    merge.out = static_cast<unsigned short*>(device_pointer(problem.o.data));
    copy_strides(problem.o, merge.out_stride);
    merge.lse = static_cast<float*>(device_pointer(lse));
    merge.heads = static_cast<int>(s.heads);
    merge.segments = static_cast<int>(level.segments);
    merge.rows = static_cast<int>(level.q_rows);
    merge.planes = static_cast<int>(q_rows.planes());
    merge.valid_rows = s.q_len;
    merge.head_dim_v = static_cast<int>(dv);
    merge.replace = plan.exact_chunk == 0 && index == 0 ? 1 : 0;
    void* merge_pointers[] = {&merge};
    launch(driver, hyper.merge,
           Dim3{blocks_for(q_rows.planes() * level.q_rows * aj::kHyperRowLanes)},
           Dim3{codegen::kHyperThreads}, 0, stream, merge_pointers);
  }
}

}  // namespace attnjit
