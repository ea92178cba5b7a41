#include "runtime/sage_launch.hpp"

#include "codegen/fa3_kernel.hpp"
#include "codegen/io_rules.hpp"

#include <algorithm>

namespace attnjit {
namespace {

// Scratch parts start on 256 bytes, as TMA and 16-byte stores want.
std::int64_t aligned(std::int64_t bytes) { return (bytes + 255) / 256 * 256; }

std::int64_t blocks(std::int64_t length, std::int64_t block) {
  return (length + block - 1) / block;
}

}  // namespace

SageOperands quantise_sage(const Driver& driver, const SageFunctions& functions,
                           const Variant& variant, const FwdProblem& problem,
                           std::optional<StreamScratch>& scratch, CUstream stream) {
  const AttentionShape& s = problem.shape;
  const std::int64_t d = variant.head_dim();
  const std::int64_t dv = variant.head_dim_v();
  const bool smooth = variant.quant()->smooth_k;
  const bool v8 = codegen::eight_bit_v(variant);
  // At least 16 keys: a TMA map wants extents of 1 and more, even of no keys.
  const std::int64_t padded = std::max<std::int64_t>(16, (s.kv_len + 15) / 16 * 16);
  const std::int64_t q_planes = s.batch * s.heads;
  const std::int64_t kv_planes = s.batch * s.kv_heads;
  const std::int64_t q_blocks = blocks(s.q_len, aj::kSageQRows);
  const std::int64_t k_blocks = blocks(s.kv_len, aj::kSageKKeys);

  // The sums and maxima first, so that one memset zeroes both.
  const std::int64_t sums = aligned(kv_planes * (d + (v8 ? dv : 0)) * 4);
  const std::int64_t q_codes = aligned(q_planes * s.q_len * d);
  const std::int64_t k_codes = aligned(kv_planes * s.kv_len * d);
  const std::int64_t v_codes = v8 ? aligned(kv_planes * dv * padded) : 0;
  const std::int64_t q_scales = aligned(q_planes * q_blocks * 4);
  const std::int64_t k_scales = aligned(kv_planes * k_blocks * 4);
  const std::int64_t means = smooth ? aligned(q_planes * s.q_len * 4) : 0;
  scratch.emplace(
      driver,
      static_cast<std::size_t>(sums + q_codes + k_codes + v_codes + q_scales + k_scales + means),
      stream);
  const CUdeviceptr base = scratch->ptr();
  driver.memset_d8_async(base, 0, static_cast<std::size_t>(sums), stream);
  std::size_t at = sums;
  const auto part = [&](std::int64_t bytes) {
    const CUdeviceptr out = base + at;
    at += static_cast<std::size_t>(bytes);
    return out;
  };
  SageOperands out;
  out.q = contiguous(part(q_codes), 0, {s.batch, s.heads, s.q_len, d});
  out.k = contiguous(part(k_codes), 0, {s.batch, s.kv_heads, s.kv_len, d});
  out.v = v8 ? contiguous(part(v_codes), 0, {s.batch, s.kv_heads, dv, padded}) : problem.v;
  const CUdeviceptr q_scale = part(q_scales);
  const CUdeviceptr k_scale = part(k_scales);
  const CUdeviceptr mean = part(means);

  aj::SageQuantArgs args{};
  args.q = static_cast<const unsigned short*>(device_pointer(problem.q.data));
  args.k = static_cast<const unsigned short*>(device_pointer(problem.k.data));
  args.v = static_cast<const unsigned short*>(device_pointer(problem.v.data));
  for (int i = 0; i < 3; ++i) {
    args.q_stride[i] = problem.q.strides[i];
    args.k_stride[i] = problem.k.strides[i];
    args.v_stride[i] = problem.v.strides[i];
  }
  args.heads = static_cast<int>(s.heads);
  args.kv_heads = static_cast<int>(s.kv_heads);
  args.q_len = static_cast<int>(s.q_len);
  args.kv_len = static_cast<int>(s.kv_len);
  args.padded_len = static_cast<int>(padded);
  auto* sum_base = static_cast<float*>(device_pointer(base));
  args.k_sum = smooth ? sum_base : nullptr;
  // K's mean from every stride-th CTA's keys, about kSampleCtas of them: a
  // channel's offset, which smoothing is for, shows in a thousand keys.
  constexpr std::int64_t kSampleCtas = 4;
  const std::int64_t stat_ctas = blocks(s.kv_len, codegen::kSageStatKeys);
  const std::int64_t stride = std::max<std::int64_t>(1, stat_ctas / kSampleCtas);
  std::int64_t sample_rows = 0;
  for (std::int64_t cta = 0; cta < stat_ctas; cta += stride) {
    sample_rows +=
        std::min<std::int64_t>(codegen::kSageStatKeys, s.kv_len - cta * codegen::kSageStatKeys);
  }
  args.k_sample_stride = static_cast<int>(stride);
  args.k_sample_rows = static_cast<int>(sample_rows);
  args.v_max = v8 ? sum_base + kv_planes * d : nullptr;
  args.q8 = static_cast<unsigned char*>(device_pointer(out.q.data));
  args.k8 = static_cast<unsigned char*>(device_pointer(out.k.data));
  args.vt = v8 ? static_cast<unsigned char*>(device_pointer(out.v.data)) : nullptr;
  args.q_scale = static_cast<float*>(device_pointer(q_scale));
  args.k_scale = static_cast<float*>(device_pointer(k_scale));
  args.mean = smooth ? static_cast<float*>(device_pointer(mean)) : nullptr;

  void* pointers[] = {&args};
  const auto grid = [](std::int64_t x, std::int64_t y, std::int64_t z) {
    return Dim3{static_cast<unsigned>(x), static_cast<unsigned>(y), static_cast<unsigned>(z)};
  };
  const Dim3 threads{static_cast<unsigned>(codegen::kSageThreads)};
  if (s.kv_len > 0) {
    // fp8 V's maxima need every key; K's sums, the sampled ones only.
    if (v8 || smooth) {
      launch(driver, functions.stats,
             grid(v8 ? stat_ctas : blocks(stat_ctas, stride), s.kv_heads, s.batch), threads, 0,
             stream, pointers);
    }
    launch(driver, functions.quant_k, grid(k_blocks, s.kv_heads, s.batch), threads, 0, stream,
           pointers);
  }
  launch(driver, functions.quant_q, grid(blocks(s.q_len, codegen::kSageQCtaRows), s.heads, s.batch),
         threads, 0, stream, pointers);
  if (v8) {
    launch(driver, functions.v_layout,
           grid(blocks(padded, codegen::kFp8VTile), dv / codegen::kFp8VTile, kv_planes), threads, 0,
           stream, pointers);
  }

  out.scales.q = args.q_scale;
  out.scales.k = args.k_scale;
  out.scales.mean = args.mean;
  out.scales.v_max = args.v_max;
  return out;
}

}  // namespace attnjit
