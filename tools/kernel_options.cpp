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

codegen::Generated generate_kernel(const Variant& variant, const KernelOptions& options) {
  const auto family = codegen::parse_family(options.family);
  if (!family) {
    throw CliError(kBadInput,
                   fmt::format("unknown family '{}' (families: fa2_sm80)", options.family));
  }
  const codegen::Arch arch = target_arch(options.arch);
  try {
    return codegen::generate(variant, *family, options.config, arch);
  } catch (const SpecError& error) {
    throw CliError(kBadInput, error.what());
  }
}

}  // namespace attnjit::cli
