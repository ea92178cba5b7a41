#include "codegen/fa2_config.hpp"

#include "codegen/config_text.hpp"
#include "codegen/expr_weight.hpp"
#include "codegen/io_rules.hpp"
#include <attnjit/error.hpp>

#include <algorithm>

#include <fmt/format.h>

namespace attnjit::codegen {

std::string Fa2Config::to_string() const {
  return fmt::format("bm={},bn={},warps={}", block_m, block_n, warps);
}

Fa2Config parse_fa2_config(std::string_view text, Fa2Config base) {
  for (const auto& [key, number] : config_items(text)) {
    if (key == "bm") {
      base.block_m = number;
    } else if (key == "bn") {
      base.block_n = number;
    } else if (key == "warps") {
      base.warps = number;
    } else {
      throw SpecError(
          fmt::format("unknown config key '{}' for family fa2_sm80 (keys: bm, bn, warps)", key));
    }
  }
  return base;
}

int fa2_smem_bytes(const Variant& variant, const Fa2Config& config) {
  const int d = variant.head_dim();
  const int dv = variant.head_dim_v();
  const int q_stride = (d > dv ? d : dv) + 8;
  return 2 * (config.block_m * q_stride + config.block_n * (d + 8) + config.block_n * (dv + 8));
}

std::vector<std::string> fa2_violations(const Variant& variant, const Fa2Config& config,
                                        const Arch& arch) {
  std::vector<std::string> out;
  if (arch.sm() < 80)
    out.push_back(fmt::format("fa2_sm80 needs sm_80 or newer, not {}", arch.name()));
  for (std::string& rule : sixteen_bit_io(variant, "fa2_sm80")) out.push_back(std::move(rule));
  if (variant.kv_page_size() > 0) {
    out.emplace_back("a paged KV cache is read by the decode family only");
  }
  if (variant.head_dim() % 16 != 0 || variant.head_dim_v() % 16 != 0) {
    out.push_back(fmt::format("fa2_sm80 needs head dims that are multiples of 16, not {} and {}",
                              variant.head_dim(), variant.head_dim_v()));
  }
  if (config.warps < 1 || config.warps > 16) out.emplace_back("warps must be in 1..16");
  if (config.block_m < 16 || config.warps < 1 || config.block_m % (16 * config.warps) != 0) {
    out.push_back(fmt::format("bm={} must be a multiple of 16 * warps = {}", config.block_m,
                              16 * config.warps));
  }
  if (config.block_n < 16 || config.block_n > 256 || config.block_n % 16 != 0) {
    out.push_back(fmt::format("bn={} must be a multiple of 16 in 16..256", config.block_n));
  }
  if (config.block_m > 256) out.push_back(fmt::format("bm={} is over 256", config.block_m));
  const int smem = fa2_smem_bytes(variant, config);
  if (smem > arch.max_smem_per_block()) {
    out.push_back(fmt::format("needs {} bytes of shared memory, {} allows {}", smem, arch.name(),
                              arch.max_smem_per_block()));
  }
  return out;
}

std::vector<Fa2Config> fa2_default_candidates(const Variant& variant, const Arch& arch) {
  // Measured on the H100 (bench/results): 32 rows per warp beats 16 by 10-40%
  // whenever it does not spill; a 128-key tile pays off at head dim 64.
  const int d = std::max(variant.head_dim(), variant.head_dim_v());
  std::vector<Fa2Config> tried;
  if (d <= 64) {
    tried = {{128, 128, 4}, {128, 64, 4}, {128, 64, 8}};
  } else if (d <= 128) {
    tried = {{128, 64, 4}, {128, 32, 4}, {128, 64, 8}};
  } else {
    tried = {{64, 64, 4}, {64, 32, 4}};
  }
  // A heavy score or mask (tensor reads, divisions) spills at the larger key
  // tile: starting there would cost a wasted compile.
  const bool heavy = heavy_code(variant.mask_expr()) || heavy_code(variant.score());
  if (heavy && d <= 128) tried.erase(tried.begin());
  tried.push_back({64, 32, 4});
  std::vector<Fa2Config> out;
  for (const Fa2Config& config : tried) {
    const bool seen = std::find(out.begin(), out.end(), config) != out.end();
    if (!seen && fa2_violations(variant, config, arch).empty()) out.push_back(config);
  }
  if (out.empty()) out.push_back(tried.back());  // its violations then say why nothing fits
  return out;
}

Fa2Config fa2_default_config(const Variant& variant, const Arch& arch) {
  return fa2_default_candidates(variant, arch).front();
}

std::vector<Fa2Config> fa2_search_space(const Variant& variant, const Arch& arch) {
  std::vector<Fa2Config> out;
  for (const int bm : {64, 128, 192, 256}) {
    for (const int bn : {32, 64, 128}) {
      for (const int warps : {4, 8}) {
        const Fa2Config config{bm, bn, warps};
        if (fa2_violations(variant, config, arch).empty()) out.push_back(config);
      }
    }
  }
  return out;
}

}  // namespace attnjit::codegen
