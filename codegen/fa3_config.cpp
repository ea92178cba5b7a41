#include "codegen/fa3_config.hpp"

#include "codegen/class_table.hpp"
#include "codegen/config_text.hpp"
#include "codegen/expr_weight.hpp"
#include "codegen/io_rules.hpp"
#include "templates/attnjit/fwd_args.h"
#include <attnjit/error.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace attnjit::codegen {

int fa3_launch_registers(const Fa3Config& config) {
  // __launch_bounds__(threads, 1): ptxas fits one CTA in the 65536 registers,
  // in units of 8 per thread.
  return 65536 / config.threads() / 8 * 8;
}

RegisterSplit fa3_register_split(const Variant& variant, const Fa3Config& config) {
  // setmaxnreg moves registers only within what the CTA got at launch: a
  // consumer's .inc waits, forever, for registers that no .dec has freed.
  // Counts are multiples of 8 (setmaxnreg's rule). The producer classifies
  // the tiles too: the bare minimum of 24 registers serves simple masks and
  // table lookups; a heavy classifier (divisions) would spill in it, and so
  // would a persistent producer's walks over items at 24.
  if (config.consumers() < 2) return {};
  const int pool = config.threads() * fa3_launch_registers(config);
  const bool heavy_classifier = heavy_code(variant.mask_expr()) && !class_table(variant);
  const int producer = heavy_classifier ? 64 : config.persistent ? 48 : 24;
  const int per_consumer = (pool - 128 * producer) / (128 * config.consumers());
  return {producer, std::min(240, per_consumer / 8 * 8)};
}

std::string Fa3Config::to_string() const {
  std::string out = fmt::format("bm={},bn={},stages={}", block_m, block_n, stages);
  if (exp_fma != 0) out += fmt::format(",exp_fma={}", exp_fma);
  if (persistent) out += ",persistent=1";
  return out;
}

Fa3Config parse_fa3_config(std::string_view text, Fa3Config base) {
  for (const auto& [key, number] : config_items(text)) {
    if (key == "bm") {
      base.block_m = number;
    } else if (key == "bn") {
      base.block_n = number;
    } else if (key == "stages") {
      base.stages = number;
    } else if (key == "exp_fma") {
      base.exp_fma = number;
    } else if (key == "persistent") {
      if (number != 0 && number != 1) {
        throw SpecError(fmt::format("persistent={} must be 0 or 1", number));
      }
      base.persistent = number == 1;
    } else {
      throw SpecError(
          fmt::format("unknown config key '{}' for family fa3_sm90 (keys: bm, bn, stages, exp_fma, "
                      "persistent)",
                      key));
    }
  }
  return base;
}

int fa3_smem_bytes(const Variant& variant, const Fa3Config& config) {
  const int d = variant.head_dim();
  const int dv = variant.head_dim_v();
  const int qk_e = eight_bit_qk(variant) ? 1 : 2;
  const int v_e = eight_bit_v(variant) ? 1 : 2;
  // O (16-bit) is staged where Q was; a persistent CTA has two Q buffers.
  const int q_buffers = config.persistent ? 2 : 1;
  const int q_bytes = config.block_m * std::max(d * qk_e, dv * 2);
  const int kv_bytes = config.block_n * (d * qk_e + dv * v_e);
  // Barriers (8 bytes: Q's full, and empty where persistent, per buffer;
  // full K, full V, empty K, empty V per stage) and the tile token (4
  // bytes), and its item where persistent, per stage, as fwd_sm90.cuh lays
  // them out.
  const int q_barriers = config.persistent ? 2 * q_buffers : 1;
  const int tokens = config.persistent ? 2 * config.stages : config.stages;
  return 1024 + q_buffers * q_bytes + config.stages * kv_bytes +
         (q_barriers + 4 * config.stages) * 8 + tokens * 4;
}

std::vector<std::string> fa3_violations(const Variant& variant, const Fa3Config& config,
                                        const Arch& arch) {
  std::vector<std::string> out;
  if (arch.sm() != 90 || !arch.arch_specific) {
    out.push_back(fmt::format("fa3_sm90 needs sm_90a (wgmma, setmaxnreg), not {}", arch.name()));
  }
  const bool eight_bit = eight_bit_qk(variant);
  if (!eight_bit) {
    for (std::string& rule : sixteen_bit_io(variant, "fa3_sm90")) out.push_back(std::move(rule));
  } else if (variant.out_dtype() != DType::F16 && variant.out_dtype() != DType::BF16) {
    out.push_back(
        fmt::format("fa3_sm90 writes fp16 or bf16, not {}", dtype_name(variant.out_dtype())));
  }
  if (variant.kv_page_size() > 0) {
    out.emplace_back("a paged KV cache is read by the decode family only");
  }
  const int d = variant.head_dim();
  const int dv = variant.head_dim_v();
  if (d % 64 != 0 || dv % 64 != 0 || d > 256 || dv > 256) {
    out.push_back(fmt::format(
        "fa3_sm90 needs head dims that are multiples of 64 up to 256, not {} and {}", d, dv));
  }
  // An 8-bit tile row fills whole 128-byte swizzle rows: head_dim bytes for
  // Q and K, block_n bytes for V transposed.
  const char* what = variant.quant() ? "quant sage" : "fp8 inputs";
  if (eight_bit && d % 128 != 0) {
    out.push_back(fmt::format("fa3_sm90 with {} needs head_dim 128 or 256, not {}", what, d));
  }
  if (eight_bit_v(variant) && config.block_n % 128 != 0) {
    out.push_back(fmt::format("bn={} must be 128 or 256 for {}", config.block_n,
                              variant.quant() ? "quant sage with fp8 PV" : what));
  } else if (variant.quant() && config.block_n % aj::kSageKKeys != 0) {
    out.push_back(fmt::format("bn={} must be a multiple of {} for quant sage (K's factor blocks)",
                              config.block_n, aj::kSageKKeys));
  }
  if (eight_bit && (variant.hash_sparsity() || variant.hyper())) {
    out.emplace_back("hash sparsity and approx hyper take fp16 or bf16 inputs");
  }
  if (config.block_m != 64 && config.block_m != 128 && config.block_m != 192) {
    out.push_back(fmt::format("bm={} must be 64, 128 or 192 (64 rows per consumer warpgroup)",
                              config.block_m));
  }
  if (config.block_n < 16 || config.block_n > 256 || config.block_n % 16 != 0) {
    out.push_back(fmt::format("bn={} must be a multiple of 16 in 16..256", config.block_n));
  }
  if (config.stages < 2 || config.stages > 4) {
    // A consumer issues tile n+1's QK^T before it frees tile n's stage.
    out.push_back(fmt::format("stages={} must be in 2..4", config.stages));
  }
  if (config.exp_fma < 0 || config.exp_fma > 8) {
    out.push_back(fmt::format("exp_fma={} must be in 0..8 (eighths)", config.exp_fma));
  }
  const int smem = fa3_smem_bytes(variant, config);
  if (smem > arch.max_smem_per_block()) {
    out.push_back(fmt::format("needs {} bytes of shared memory, {} allows {}", smem, arch.name(),
                              arch.max_smem_per_block()));
  }
  return out;
}

std::vector<Fa3Config> fa3_default_candidates(const Variant& variant, const Arch& arch) {
  // FlashAttention-3's tile sizes per head dim: two consumer warpgroups, and
  // the key tile the registers allow beside the O accumulator. Each takes the
  // deepest K/V pipeline that shared memory holds: on the H100, 3 stages
  // beat 2 by up to 15% under causal masks (CTAs of few tiles) and 4 beat 3
  // at head dim 64, at no cost elsewhere.
  const int d = std::max(variant.head_dim(), variant.head_dim_v());
  std::vector<Fa3Config> tiles;
  // Three consumers get 160 registers each: a score or mask that reads
  // tensors or divides spills there, so it starts at two.
  const bool heavy = heavy_code(variant.mask_expr()) || heavy_code(variant.score());
  if (eight_bit_qk(variant)) {
    // Key tiles are 128 or 256 wide (whole swizzle rows of V transposed), and
    // the scores of 256 keys spill beside O. Every exponential on the
    // multi-function unit: with the softmax under PV (fwd_sm90.cuh), fp8 at
    // b1 s16384 took 2.34 ms on the H100 against 2.53 with 1 in 8 on the FMA
    // pipe and 2.71 with 2 in 8.
    tiles = {{128, 128}};
  } else if (d <= 64) {
    tiles =
        heavy ? std::vector<Fa3Config>{{128, 128}} : std::vector<Fa3Config>{{192, 128}, {128, 128}};
  } else if (d <= 128) {
    tiles = {{128, 128}, {128, 96}, {128, 64}};
  } else {
    tiles = {{128, 64}, {128, 48}, {128, 32}};
  }
  tiles.push_back({64, eight_bit_qk(variant) ? 128 : 64});
  std::vector<Fa3Config> out;
  for (Fa3Config config : tiles) {
    for (config.stages = 4; config.stages > 2; --config.stages) {
      if (fa3_violations(variant, config, arch).empty()) break;
    }
    const bool seen = std::find(out.begin(), out.end(), config) != out.end();
    if (!seen && fa3_violations(variant, config, arch).empty()) out.push_back(config);
  }
  if (out.empty()) out.push_back(tiles.back());
  return out;
}

std::vector<Fa3Config> fa3_search_space(const Variant& variant, const Arch& arch) {
  std::vector<Fa3Config> out;
  const bool eight_bit_scores = eight_bit_qk(variant);
  const bool eight_bit_p = eight_bit_v(variant);
  for (const int bm : {64, 128, 192}) {
    for (const int bn : {64, 96, 128, 160, 176, 192, 256}) {
      for (const int stages : {2, 3, 4}) {
        for (const int exp_fma : {0, 2}) {
          for (const bool persistent : {false, true}) {
            const Fa3Config config{bm, bn, stages, exp_fma, persistent};
            // 16-bit P of 256 keys leaves no registers for the rest, and
            // 16-bit products of Q and K leave the multi-function unit time enough.
            if ((bn == 256 && !eight_bit_p) || (exp_fma != 0 && !eight_bit_scores)) continue;
            if (fa3_violations(variant, config, arch).empty()) out.push_back(config);
          }
        }
      }
    }
  }
  return out;
}

}  // namespace attnjit::codegen
