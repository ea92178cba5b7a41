// approx hyper on the prefill families: one forward kernel, of a plain
// variant that hyper_kernel_variant derives, runs every launch of the plan
// (language/hyper_plan.hpp), told by params which:
//   the exact part, on the call's own Q, K and V: blocks of exact_chunk rows
//     (hyper_q_block = hyper_block = exact_chunk, every key below hyper_keys
//     = kv_len), causal within them where the variant is;
//   a level's diagonal blocks, on gathered compact planes of queries and
//     keys in hash order (hyper_keys = kv_len);
//   a level's drawn keys (hyper_keys = 0): a query sees those of other
//     blocks than its own (hyper_sample_block).
// The tile classifier finds the blocks off the diagonal empty, so each part
// costs its blocks alone; the score is the plain one everywhere, and the
// drawn keys' weight enters where the runtime merges the parts' LSEs.
#pragma once

#include <attnjit/variant.hpp>

#include <string>
#include <string_view>

namespace attnjit::codegen {

inline constexpr std::string_view kHyperQueryBlockParam = "hyper_q_block";
inline constexpr std::string_view kHyperBlockParam = "hyper_block";
inline constexpr std::string_view kHyperKeysParam = "hyper_keys";
inline constexpr std::string_view kHyperCausalParam = "hyper_causal";
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
