// The generator of the Hopper family: a variant and a Fa3Config as a CUDA
// translation unit over templates/attnjit/fwd_sm90.cuh.
#pragma once

#include "codegen/arch.hpp"
#include "codegen/fa3_config.hpp"
#include "codegen/kernel_source.hpp"
#include <attnjit/variant.hpp>

#include <string_view>

namespace attnjit::codegen {

// The kernel that lays an fp8 variant's V out for the forward kernel
// (templates/attnjit/fp8_layout.cuh), in the module of every fp8 variant:
// a CTA of kFp8VThreads per 64 keys x 64 columns of one (batch, KV head).
inline constexpr std::string_view kFp8VLayoutEntry = "attnjit_fp8_v_layout";
// An fp8 variant's forward kernel for per-block descales (a factor per query
// row or per 64 keys), beside the per-head one in the same module.
inline constexpr std::string_view kFp8BlockScalesEntry = "attnjit_fwd_fp8_blocks";
inline constexpr int kFp8VThreads = 256;
inline constexpr int kFp8VTile = 64;

// The quantisation kernels of a quant sage variant
// (templates/attnjit/sage_quant.cuh), in its module, in the order the
// runtime runs them: CTAs of kSageThreads over (kSageStatKeys keys, KV
// head, batch), (kSageKKeys keys, KV head, batch), (kSageQCtaRows query
// rows, head, batch) and, with pv=fp8_e4m3 only, (64 keys, 64 channels,
// batch x KV head). With 16-bit PV, sage_stats reads sampled keys only.
inline constexpr std::string_view kSageStatsEntry = "attnjit_sage_stats";
inline constexpr std::string_view kSageQuantKEntry = "attnjit_sage_quant_k";
inline constexpr std::string_view kSageQuantQEntry = "attnjit_sage_quant_q";
inline constexpr std::string_view kSageVLayoutEntry = "attnjit_sage_v_layout";
inline constexpr int kSageThreads = 256;
inline constexpr int kSageQCtaRows = 64;
inline constexpr int kSageStatKeys = 256;

// Throws SpecError listing every rule the config breaks for the variant or arch.
GeneratedKernel fa3_kernel(const Variant& variant, const Fa3Config& config, const Arch& arch);

}  // namespace attnjit::codegen
