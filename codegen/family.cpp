#include "codegen/family.hpp"

#include "codegen/decode_kernel.hpp"
#include "codegen/fa3_kernel.hpp"
#include "codegen/hash_order.hpp"
#include "codegen/hyper_kernels.hpp"
#include "codegen/io_rules.hpp"

namespace attnjit::codegen {

std::string_view family_name(Family family) {
  switch (family) {
    case Family::Fa2Sm80: return "fa2_sm80";
    case Family::Fa3Sm90: return "fa3_sm90";
    case Family::Decode: return "decode";
  }
  return "?";
}

std::optional<Family> parse_family(std::string_view name) {
  if (name == "fa2_sm80") return Family::Fa2Sm80;
  if (name == "fa3_sm90") return Family::Fa3Sm90;
  if (name == "decode") return Family::Decode;
  return std::nullopt;
}

std::vector<std::string_view> family_names() { return {"fa2_sm80", "fa3_sm90", "decode"}; }

Family preferred_family(const Variant& variant, const Arch& arch) {
  if (variant.kv_page_size() > 0) return Family::Decode;
  const Fa3Config hopper = fa3_default_candidates(variant, arch).front();
  return fa3_violations(variant, hopper, arch).empty() ? Family::Fa3Sm90 : Family::Fa2Sm80;
}

Family preferred_family(const Variant& variant, const Arch& arch, std::int64_t q_len) {
  // approx hyper is exact attention below min_seq query rows, which is all
  // the decode family computes.
  const bool exact = !variant.hyper() || q_len < variant.hyper()->min_seq;
  // fp8 inputs and quant sage have the Hopper family only, whatever the length.
  if (q_len <= kDecodeMaxQueryRows && exact && !eight_bit_qk(variant)) return Family::Decode;
  return preferred_family(variant, arch);
}

std::optional<Variant> prefill_kernel_variant(const Variant& variant) {
  if (variant.hash_sparsity()) return hash_sorted_variant(variant);
  if (variant.hyper()) return hyper_kernel_variant(variant);
  return std::nullopt;
}

namespace {

Generated generate_family(const Variant& variant, Family family, std::string_view config,
                          const Arch& arch) {
  const std::optional<Variant> derived =
      family == Family::Decode ? std::nullopt : prefill_kernel_variant(variant);
  const Variant& kernel_variant = derived ? *derived : variant;
  switch (family) {
    case Family::Fa2Sm80: {
      const Fa2Config chosen = parse_fa2_config(config, fa2_default_config(variant, arch));
      return {fa2_kernel(kernel_variant, chosen, arch), chosen.to_string()};
    }
    case Family::Fa3Sm90: {
      const Fa3Config chosen =
          parse_fa3_config(config, fa3_default_candidates(variant, arch).front());
      return {fa3_kernel(kernel_variant, chosen, arch), chosen.to_string()};
    }
    case Family::Decode: {
      const DecodeConfig chosen =
          parse_decode_config(config, decode_default_candidates(variant, arch).front());
      return {decode_kernel(variant, chosen, arch), chosen.to_string()};
    }
  }
  return {};
}

}  // namespace

Generated generate(const Variant& variant, Family family, std::string_view config,
                   const Arch& arch) {
  Generated out = generate_family(variant, family, config, arch);
  out.kernel.source += hash_kernels_source(variant);
  if (family != Family::Decode) out.kernel.source += hyper_kernels_source(variant);
  return out;
}

namespace {

template <class Config>
std::vector<std::string> config_texts(const std::vector<Config>& configs) {
  std::vector<std::string> out;
  for (const Config& config : configs) out.push_back(config.to_string());
  return out;
}

}  // namespace

std::vector<std::string> default_configs(const Variant& variant, Family family, const Arch& arch) {
  switch (family) {
    case Family::Fa2Sm80: return config_texts(fa2_default_candidates(variant, arch));
    case Family::Fa3Sm90: return config_texts(fa3_default_candidates(variant, arch));
    case Family::Decode: return config_texts(decode_default_candidates(variant, arch));
  }
  return {};
}

std::vector<Generated> generate_candidates(const Variant& variant, Family family,
                                           std::string_view config, const Arch& arch) {
  if (!config.empty()) return {generate(variant, family, config, arch)};
  std::vector<Generated> out;
  for (const std::string& candidate : default_configs(variant, family, arch)) {
    out.push_back(generate(variant, family, candidate, arch));
  }
  return out;
}

std::vector<std::string> search_space(const Variant& variant, Family family, const Arch& arch) {
  switch (family) {
    case Family::Fa2Sm80: return config_texts(fa2_search_space(variant, arch));
    case Family::Fa3Sm90: return config_texts(fa3_search_space(variant, arch));
    case Family::Decode: return config_texts(decode_search_space(variant, arch));
  }
  return {};
}

}  // namespace attnjit::codegen
