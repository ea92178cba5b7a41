#include "tools/kernel_options.hpp"

#include "tools/cli_error.hpp"
#include "tools/variant_files.hpp"
#include <attnjit/error.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace attnjit::cli {

void add_kernel_options(CLI::App& command, KernelOptions& options) {
  command.add_option("--variant", options.variant, "The variant to use, by name");
  command.add_option("--family", options.family,
                     "Kernel family: auto (the default: decode for up to 16 query rows and "
                     "paged KV, else fa3_sm90 on sm_90a where it applies, else fa2_sm80), "
                     "fa2_sm80, fa3_sm90 or decode");
  command.add_option(
      "--config", options.config,
      "Config overrides, K=V,... (fa2_sm80: bm, bn, warps; fa3_sm90: bm, bn, stages, exp_fma, "
      "persistent; decode: rows, bn, warps, stages, split, tma)");
  command.add_option("--arch", options.arch, "Target arch, e.g. sm_80 or sm_90a (default: GPU 0)");
}

codegen::Family kernel_family(const Variant& variant, const std::string& name,
                              const codegen::Arch& arch) {
  if (name == "auto") return codegen::preferred_family(variant, arch);
  const auto family = codegen::parse_family(name);
  if (!family) {
    throw CliError(kBadInput, fmt::format("unknown family '{}' (families: auto, {})", name,
                                          fmt::join(codegen::family_names(), ", ")));
  }
  return *family;
}

namespace {

template <class Generate>
auto generate_for(const Variant& variant, const KernelOptions& options, Generate generate) {
  const codegen::Arch arch = target_arch(options.arch);
  const codegen::Family family = kernel_family(variant, options.family, arch);
  try {
    return generate(family, arch);
  } catch (const SpecError& error) {
    throw CliError(kBadInput, error.what());
  }
}

}  // namespace

codegen::Generated generate_kernel(const Variant& variant, const KernelOptions& options) {
  return generate_for(variant, options, [&](codegen::Family family, const codegen::Arch& arch) {
    return codegen::generate(variant, family, options.config, arch);
  });
}

std::vector<codegen::Generated> kernel_candidates(const Variant& variant,
                                                  const KernelOptions& options) {
  return generate_for(variant, options, [&](codegen::Family family, const codegen::Arch& arch) {
    return codegen::generate_candidates(variant, family, options.config, arch);
  });
}

}  // namespace attnjit::cli
