// Hash sparsity run fast: the prefill families compute a `sparsity hash`
// variant on queries and keys reordered by bucket (a stable sort, so each
// bucket keeps its positions in order). The tiles of two different buckets
// then lie off the block diagonal, and the class table finds them empty from
// the sorted bucket ids. Every other term of the mask and the score sees the
// rows' original positions, read from the order tensors.
#pragma once

#include <attnjit/variant.hpp>

#include <string>
#include <string_view>

namespace attnjit::codegen {

// The variant the prefill families compile for a `sparsity hash` variant: the
// same params and tensors plus q_order: i32[batch, heads, q_len] and k_order:
// i32[batch, kv_heads, kv_len] (the original position of each reordered row);
// q and k in the mask and score replaced by q_order[b, h, q] and
// k_order[b, hkv, k]; the bucket term kept, now over the sorted bucket ids.
Variant hash_sorted_variant(const Variant& variant);

// Entry points of the kernels every module of a `sparsity hash` variant holds
// (templates/attnjit/hash_sparsity.cuh).
inline constexpr std::string_view kHashCountEntry = "attnjit_hash_count";
inline constexpr std::string_view kHashSortEntry = "attnjit_hash_sort";
inline constexpr std::string_view kPermuteRowsEntry = "attnjit_permute_rows";
inline constexpr std::string_view kLshEntry = "attnjit_lsh_buckets";
inline constexpr int kHashSortThreads = 256;
// Rows a CTA of either pass of the sort takes: 8 steps of 32 rows a warp.
inline constexpr int kHashSortChunkRows = 2048;
inline constexpr int kPermuteThreads = 256;
inline constexpr int kLshThreads = 256;

// The row sort's two passes (over `buckets` buckets) and row permute kernels, which
// approx hyper's modules hold too.
std::string row_kernels_source(int buckets);

// Their source, for a module whose variant has hash sparsity; empty otherwise.
std::string hash_kernels_source(const Variant& variant);

}  // namespace attnjit::codegen
