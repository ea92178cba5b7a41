#include "tools/kernel_options.hpp"

#include "tools/cli_error.hpp"
#include "tools/variant_files.hpp"
#include <attnjit/error.hpp>

#include <fmt/format.h>

namespace attnjit::cli {

void add_kernel_options(CLI::App& command, KernelOptions& options) {
  command.add_option("--variant", options.variant, "The variant to use, by name");
  command.add_option("--family", options.family, "Kernel family (fa2_sm80)");
  command.add_option("--config", options.config, "Config overrides, K=V,... (bm, bn, warps)");
  command.add_option("--arch", options.arch, "Target arch, e.g. sm_80 or sm_90a (default: GPU 0)");
}

namespace {

template <class Generate>
auto generate_for(const KernelOptions& options, Generate generate) {
  const auto family = codegen::parse_family(options.family);
  if (!family) {
    throw CliError(kBadInput,
                   fmt::format("unknown family '{}' (families: fa2_sm80)", options.family));
  }
  const codegen::Arch arch = target_arch(options.arch);
  try {
    return generate(*family, arch);
  } catch (const SpecError& error) {
    throw CliError(kBadInput, error.what());
  }
}

}  // namespace

codegen::Generated generate_kernel(const Variant& variant, const KernelOptions& options) {
  return generate_for(options, [&](codegen::Family family, const codegen::Arch& arch) {
    return codegen::generate(variant, family, options.config, arch);
  });
}

std::vector<codegen::Generated> kernel_candidates(const Variant& variant,
                                                  const KernelOptions& options) {
  return generate_for(options, [&](codegen::Family family, const codegen::Arch& arch) {
    return codegen::generate_candidates(variant, family, options.config, arch);
  });
}

}  // namespace attnjit::cli
