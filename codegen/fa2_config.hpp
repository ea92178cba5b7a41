// The configuration space of the sm_80+ FlashAttention-2-style family: what the
// tuner searches and what the generator fills into the template.
#pragma once

#include "codegen/arch.hpp"
#include <attnjit/variant.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace attnjit::codegen {

struct Fa2Config {
  int block_m = 128;  // query rows per CTA
  int block_n = 64;   // keys per K/V tile
  int warps = 4;      // warps per CTA; each takes block_m / warps rows

  [[nodiscard]] std::string to_string() const;  // "bm=128,bn=64,warps=4"
  friend bool operator==(const Fa2Config&, const Fa2Config&) = default;
};

// Parses "K=V,..." over the keys bm, bn, warps, starting from `base`.
// Throws SpecError naming the bad key or value.
Fa2Config parse_fa2_config(std::string_view text, Fa2Config base);

// Dynamic shared memory of one CTA, in bytes.
int fa2_smem_bytes(const Variant& variant, const Fa2Config& config);

// Every rule the config breaks for this variant and arch; empty when usable.
std::vector<std::string> fa2_violations(const Variant& variant, const Fa2Config& config,
                                        const Arch& arch);

// Configs to try without tuning, fastest first: 32 query rows per warp is
// fastest but may spill for some variants; the last, 16 rows per warp, keeps
// the accumulators and the mask's work in registers. All are valid.
std::vector<Fa2Config> fa2_default_candidates(const Variant& variant, const Arch& arch);

// The first default candidate: what `codegen` shows when no config is given.
Fa2Config fa2_default_config(const Variant& variant, const Arch& arch);

// The configs the tuner may try: the product of the knobs' values, valid ones only.
std::vector<Fa2Config> fa2_search_space(const Variant& variant, const Arch& arch);

}  // namespace attnjit::codegen
