// The configuration space of the decode family (templates/attnjit/fwd_decode.cuh):
// few query rows against a long KV cache, split over the GPU stream-K style.
#pragma once

#include "codegen/arch.hpp"
#include <attnjit/variant.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace attnjit::codegen {

// The runtime picks the decode family by itself for at most this many query
// rows per head (issue 7's range, speculative decoding included).
inline constexpr int kDecodeMaxQueryRows = 16;

struct DecodeConfig {
  int rows = 16;        // packed query rows (heads sharing a KV head x q_len) per CTA
  int block_n = 64;     // keys per K/V stage
  int warps = 4;        // each takes block_n / warps keys of every stage
  int stages = 3;       // K/V stages in flight
  int ctas_per_sm = 0;  // CTAs of the stream-K partition per SM; 0: as many as fit
  bool tma = false;     // K and V tiles copied by TMA (sm_90, contiguous cache), else cp.async

  [[nodiscard]] std::string to_string() const;  // "rows=16,bn=64,warps=4,stages=3,split=0,tma=0"
  friend bool operator==(const DecodeConfig&, const DecodeConfig&) = default;
};

// Parses "K=V,..." over the keys rows, bn, warps, stages, split, tma, starting from
// `base`. Throws SpecError naming the bad key or value.
DecodeConfig parse_decode_config(std::string_view text, DecodeConfig base);

// Dynamic shared memory of one CTA, in bytes.
int decode_smem_bytes(const Variant& variant, const DecodeConfig& config);

// Every rule the config breaks for this variant and arch; empty when usable.
std::vector<std::string> decode_violations(const Variant& variant, const DecodeConfig& config,
                                           const Arch& arch);

// Configs to try without tuning, fastest first; all valid, or the last one
// alone when none is (its violations then say why).
std::vector<DecodeConfig> decode_default_candidates(const Variant& variant, const Arch& arch);

// The configs the tuner may try: the product of the knobs' values, valid ones only.
std::vector<DecodeConfig> decode_search_space(const Variant& variant, const Arch& arch);

}  // namespace attnjit::codegen
