// Kernel families by name, and one entry point that turns a variant, family,
// config text and arch into generated source.
#pragma once

#include "codegen/arch.hpp"
#include "codegen/kernel_source.hpp"
#include <attnjit/variant.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnjit::codegen {

enum class Family : std::uint8_t { Fa2Sm80, Fa3Sm90, Decode };

std::string_view family_name(Family family);
std::optional<Family> parse_family(std::string_view name);
std::vector<std::string_view> family_names();

// The family to use when none is named: the decode family for a paged KV
// cache, which only it reads; the Hopper family on sm_90a where it can take
// the variant (head dims that are multiples of 64, 16-bit data); the sm_80
// family otherwise.
Family preferred_family(const Variant& variant, const Arch& arch);

// The family for problems of `q_len` query rows: the decode family for a few
// rows (kDecodeMaxQueryRows; for approx hyper, fewer than min_seq too), else
// preferred_family(variant, arch).
Family preferred_family(const Variant& variant, const Arch& arch, std::int64_t q_len);

// What the prefill families' forward kernel computes where it is not the
// variant itself: the sorted form of hash sparsity (hash_order.hpp), the
// kernel of approx hyper (hyper_kernels.hpp). The decode family always runs
// the variant (for approx hyper, a few query rows are exact attention).
std::optional<Variant> prefill_kernel_variant(const Variant& variant);

struct Generated {
  GeneratedKernel kernel;
  std::string config;  // the full config, defaults filled in, as K=V,...
};

// `config` overrides the family's default config key by key ("bm=64,bn=32").
// Throws SpecError for a bad key, value or a config the variant cannot use.
Generated generate(const Variant& variant, Family family, std::string_view config,
                   const Arch& arch);

// What to compile, in order of preference: the given config alone, or, when
// `config` is empty, each of the family's default candidates (fastest first).
// The runtime keeps the first that compiles without spilling.
std::vector<Generated> generate_candidates(const Variant& variant, Family family,
                                           std::string_view config, const Arch& arch);

// Every config the tuner may try for the variant on `arch`, as K=V,... text:
// the product of the family's knobs, less what breaks its constraints.
std::vector<std::string> search_space(const Variant& variant, Family family, const Arch& arch);

// The family's default candidates, fastest first (what generate_candidates
// compiles when no config is given).
std::vector<std::string> default_configs(const Variant& variant, Family family, const Arch& arch);

}  // namespace attnjit::codegen
