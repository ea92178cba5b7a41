#include "codegen/decode_config.hpp"

#include "codegen/config_text.hpp"
#include "codegen/io_rules.hpp"
#include <attnjit/error.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace attnjit::codegen {

std::string DecodeConfig::to_string() const {
  return fmt::format("rows={},bn={},warps={},stages={},split={},tma={}", rows, block_n, warps,
                     stages, ctas_per_sm, tma ? 1 : 0);
}

DecodeConfig parse_decode_config(std::string_view text, DecodeConfig base) {
  for (const auto& [key, number] : config_items(text)) {
    if (key == "rows") {
      base.rows = number;
    } else if (key == "bn") {
      base.block_n = number;
    } else if (key == "warps") {
      base.warps = number;
    } else if (key == "stages") {
      base.stages = number;
    } else if (key == "split") {
      base.ctas_per_sm = number;
    } else if (key == "tma") {
      if (number != 0 && number != 1) throw SpecError("tma must be 0 or 1");
      base.tma = number == 1;
    } else {
      throw SpecError(fmt::format(
          "unknown config key '{}' for family decode (keys: rows, bn, warps, stages, split, tma)",
          key));
    }
  }
  return base;
}

int decode_smem_bytes(const Variant& variant, const DecodeConfig& config) {
  // As fwd_decode.cuh's Shape lays it out: Q, then the K/V stages, which the
  // warps' join of O, maxima and sums reuses at the end of a piece. TMA's
  // stages are swizzled rather than padded, and come first, aligned to the
  // swizzle's 1024-byte period by as much slack.
  const int d = variant.head_dim();
  const int dv = variant.head_dim_v();
  const int pad = config.tma ? 0 : 8;
  const int stages = 2 * config.stages * config.block_n * (d + pad + dv + pad);
  const int join = config.warps * config.rows * (dv + 2) * 4;
  return (config.tma ? 1024 : 0) + 2 * config.rows * (d + 8) + std::max(stages, join);
}

std::vector<std::string> decode_violations(const Variant& variant, const DecodeConfig& config,
                                           const Arch& arch) {
  std::vector<std::string> out;
  if (arch.sm() < 80)
    out.push_back(fmt::format("decode needs sm_80 or newer, not {}", arch.name()));
  for (std::string& rule : sixteen_bit_io(variant, "decode")) out.push_back(std::move(rule));
  if (variant.head_dim() % 16 != 0 || variant.head_dim_v() % 16 != 0) {
    out.push_back(fmt::format("decode needs head dims that are multiples of 16, not {} and {}",
                              variant.head_dim(), variant.head_dim_v()));
  }
  if (config.rows != 16 && config.rows != 32 && config.rows != 64) {
    out.push_back(fmt::format("rows={} must be 16, 32 or 64", config.rows));
  }
  if (config.warps < 1 || config.warps > 8) out.emplace_back("warps must be in 1..8");
  if (config.block_n < 16 || config.block_n > 256 || config.warps < 1 ||
      config.block_n % (16 * config.warps) != 0) {
    out.push_back(fmt::format("bn={} must be in 16..256 and a multiple of 16 * warps = {}",
                              config.block_n, 16 * config.warps));
  }
  if (config.stages < 2 || config.stages > 8) out.emplace_back("stages must be in 2..8");
  if (config.ctas_per_sm < 0 || config.ctas_per_sm > 32) out.emplace_back("split must be in 0..32");
  if (config.tma) {
    if (arch.sm() < 90)
      out.push_back(fmt::format("tma=1 needs sm_90 or newer, not {}", arch.name()));
    if (variant.kv_page_size() > 0) out.emplace_back("tma=1 reads a contiguous cache, not pages");
    if (variant.head_dim() % 64 != 0 || variant.head_dim_v() % 64 != 0) {
      out.push_back(fmt::format("tma=1 needs head dims that are multiples of 64, not {} and {}",
                                variant.head_dim(), variant.head_dim_v()));
    }
  }
  const int smem = decode_smem_bytes(variant, config);
  if (smem > arch.max_smem_per_block()) {
    out.push_back(fmt::format("needs {} bytes of shared memory, {} allows {}", smem, arch.name(),
                              arch.max_smem_per_block()));
  }
  return out;
}

std::vector<DecodeConfig> decode_default_candidates(const Variant& variant, const Arch& arch) {
  // Decode is a stream of K and V: what matters is bytes in flight per SM.
  // A contiguous cache streamed 1% faster in three 128-key stages (one CTA an
  // SM at head dim 128, where the H100 has the shared memory) than in three
  // 64-key stages (two CTAs an SM): the warps' fixed costs of a tile are
  // shared by twice the keys. A paged cache looks up each key's page before
  // its copy, a latency that one CTA an SM left exposed (b8 L32768 with
  // 16-row pages: 0.52 ms against 0.41), so it keeps two CTAs an SM.
  // On sm_90 TMA copies a contiguous cache's tiles: 3% faster than cp.async
  // at every decode shape of issue 7 on the H100 (b8 L32768: 0.3703 ms
  // against 0.3829; the kernel at 91% of DRAM peak against 85%).
  std::vector<DecodeConfig> tried = {
      {16, 64, 4, 3, 0, false}, {16, 64, 4, 2, 0, false}, {16, 32, 2, 2, 0, false}};
  if (variant.kv_page_size() == 0) {
    tried.insert(tried.begin(),
                 {{16, 128, 4, 3, 0, true}, {16, 64, 4, 3, 0, true}, {16, 128, 4, 3, 0, false}});
  }
  std::vector<DecodeConfig> out;
  for (const DecodeConfig& config : tried) {
    if (decode_violations(variant, config, arch).empty()) out.push_back(config);
  }
  if (out.empty()) out.push_back(tried.back());
  return out;
}

std::vector<DecodeConfig> decode_search_space(const Variant& variant, const Arch& arch) {
  std::vector<DecodeConfig> out;
  for (const int rows : {16, 32, 64}) {
    for (const int bn : {32, 64, 128}) {
      for (const int warps : {2, 4, 8}) {
        for (const int stages : {2, 3, 4, 6}) {
          for (const int split : {0, 1}) {
            for (const bool tma : {false, true}) {
              const DecodeConfig config{rows, bn, warps, stages, split, tma};
              if (decode_violations(variant, config, arch).empty()) out.push_back(config);
            }
          }
        }
      }
    }
  }
  return out;
}

}  // namespace attnjit::codegen
