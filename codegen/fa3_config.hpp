// The configuration space of the Hopper (sm_90a) FlashAttention-3-style
// family: what the tuner searches and what the generator fills in.
#pragma once

#include "codegen/arch.hpp"
#include <attnjit/variant.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace attnjit::codegen {

struct Fa3Config {
  int block_m = 128;  // query rows per CTA: 64 per consumer warpgroup
  int block_n = 128;  // keys per K/V tile
  int stages = 2;     // K/V tiles in flight in shared memory
  // Of every 8 exponentials of the softmax, how many a polynomial computes on
  // the FMA pipe (exp2_fma) rather than the multi-function unit.
  int exp_fma = 0;
  // One CTA per SM taking query tiles in turn, the next one's Q and first
  // K and V loaded under the current one's products (fwd_sm90.cuh).
  bool persistent = false;

  [[nodiscard]] int consumers() const { return block_m / 64; }
  [[nodiscard]] int threads() const { return 128 * (consumers() + 1); }
  // "bm=128,bn=128,stages=2", then ",exp_fma=N" where N is not 0 and
  // ",persistent=1" where set.
  [[nodiscard]] std::string to_string() const;
  friend bool operator==(const Fa3Config&, const Fa3Config&) = default;
};

// setmaxnreg's split of the register file between the producer warpgroup and
// each consumer warpgroup; {0, 0} leaves every thread the launch bound's share.
struct RegisterSplit {
  int producer = 0;
  int consumer = 0;
  bool operator==(const RegisterSplit& other) const {
    return producer == other.producer && consumer == other.consumer;
  }
};
// Registers per thread at launch, which bound what the split can hand out.
int fa3_launch_registers(const Fa3Config& config);
RegisterSplit fa3_register_split(const Variant& variant, const Fa3Config& config);

// Parses "K=V,..." over the keys bm, bn, stages, exp_fma, persistent,
// starting from `base`.
// Throws SpecError naming the bad key or value.
Fa3Config parse_fa3_config(std::string_view text, Fa3Config base);

// Dynamic shared memory of one CTA, in bytes (tiles, their alignment slack, mbarriers).
int fa3_smem_bytes(const Variant& variant, const Fa3Config& config);

// Every rule the config breaks for this variant and arch; empty when usable.
std::vector<std::string> fa3_violations(const Variant& variant, const Fa3Config& config,
                                        const Arch& arch);

// Configs to try without tuning, fastest first; all valid, or the last one
// alone when none is (its violations then say why).
std::vector<Fa3Config> fa3_default_candidates(const Variant& variant, const Arch& arch);

// The configs the tuner may try: the product of the knobs' values, valid ones only.
std::vector<Fa3Config> fa3_search_space(const Variant& variant, const Arch& arch);

}  // namespace attnjit::codegen
