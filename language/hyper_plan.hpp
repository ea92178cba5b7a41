// How `approx hyper` splits one attention call into launches, shared by the
// runtime and the CPU reference so that both compute the same thing.
//
// Not causal: one level, a plane per (batch, head) of all queries against all
// keys, or exact attention where there are fewer than min_seq queries.
// Causal (q_len == kv_len = n): the paper's recursion. The sequence, padded
// at its end to n_pad = s_L * 2^L rows, is halved L times; at level d the
// segments have s_d = n_pad / 2^d rows, and in each pair of them the second
// segment's queries attend to the first segment's keys by HyperAttention,
// where s_d >= min_seq. Everything within a segment of the last level, s_L
// rows, is exact causal attention: L is the deepest level whose segments
// still have min_seq rows, and below it the paper is exact too. Padding rows
// are only ever queries whose output is dropped or keys that only they see.
#pragma once

#include <attnjit/variant.hpp>

#include <cstdint>
#include <vector>

namespace attnjit {

struct HyperLevel {
  std::int64_t q_rows = 0;  // of each plane (segment)
  std::int64_t k_rows = 0;
  std::int64_t segments = 1;  // planes per (batch, head)
  // Segment j's queries are rows q_first + j * step ..., its keys k_first + j * step ...
  std::int64_t q_first = 0;
  std::int64_t k_first = 0;
  std::int64_t step = 0;
  // Diagonal blocks in the sorted order: key r is in block r / block, query r
  // in block r / q_block, where q_block spreads the queries over as many blocks
  // as the keys fill (the paper's query block size).
  std::int64_t block = 0;
  std::int64_t q_block = 0;
  std::int64_t samples = 0;  // key columns drawn per plane, weighted by k_rows / samples
  // The log of that weight, added to a drawn key's score (0 without draws).
  [[nodiscard]] double log_weight() const;
};

struct HyperPlan {
  // Exact attention within chunks of this many rows (causal if the variant
  // is), before the levels merge into it; 0 where there is none.
  std::int64_t exact_chunk = 0;
  std::int64_t valid_rows = 0;  // q_len: rows at or past it are padding
  std::vector<HyperLevel> levels;
};

// Throws InputError for a causal variant with q_len != kv_len past min_seq.
HyperPlan hyper_plan(const HyperApprox& hyper, bool causal, std::int64_t q_len,
                     std::int64_t kv_len);

// Whether a variant's mask is `causal` (the only mask approx hyper allows).
bool hyper_is_causal(const Variant& variant);

// The variant without its approximation (approx hyper, quant sage): the
// exact attention it approximates, named NAME_exact.
Variant exact_of(const Variant& variant);

}  // namespace attnjit
