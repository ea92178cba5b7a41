// approx hyper on the prefill families: one forward kernel, of a plain
// variant that hyper_kernel_variant derives, runs every launch of the plan
// (language/hyper_plan.hpp), told by params which:
//   the exact part, on the call's own Q, K and V: blocks of exact_chunk rows
//     (hyper_q_blocks = 1, hyper_q_rows = hyper_block = exact_chunk, every
//     key below hyper_keys = kv_len), causal within them where the variant is;
//   a level, on gathered compact planes: queries and keys in hash order, the
//     level's sampled keys appended after its k_rows keys (hyper_keys =
//     k_rows); a query sees the keys of its diagonal block and the sampled
//     keys of other blocks (hyper_sample_block), these with the log of their
//     weight added to the score.
// The tile classifier finds the blocks off the diagonal empty, so each part
// costs its blocks alone.
#pragma once

#include <attnjit/variant.hpp>

#include <string>
#include <string_view>

namespace attnjit::codegen {

inline constexpr std::string_view kHyperQueryBlocksParam = "hyper_q_blocks";
inline constexpr std::string_view kHyperQueryRowsParam = "hyper_q_rows";
inline constexpr std::string_view kHyperBlockParam = "hyper_block";
inline constexpr std::string_view kHyperKeysParam = "hyper_keys";
inline constexpr std::string_view kHyperCausalParam = "hyper_causal";
inline constexpr std::string_view kHyperLogWeightParam = "hyper_log_weight";
inline constexpr std::string_view kHyperSampleBlockTensor = "hyper_sample_block";

Variant hyper_kernel_variant(const Variant& variant);

// Entry points of the kernels every prefill module of an approx hyper variant
// holds besides the row sort and permute of hash_order.hpp
// (templates/attnjit/hyper.cuh).
inline constexpr std::string_view kHyperHashEntry = "attnjit_hyper_hash";
inline constexpr std::string_view kHyperSamplesEntry = "attnjit_hyper_samples";
inline constexpr std::string_view kHyperMergeEntry = "attnjit_hyper_merge";
inline constexpr int kHyperThreads = 256;

// Their source, for a prefill module of an approx hyper variant; empty otherwise.
std::string hyper_kernels_source(const Variant& variant);

}  // namespace attnjit::codegen
