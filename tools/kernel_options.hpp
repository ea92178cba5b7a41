// The options codegen, compile and run share: which variant, family, config
// and arch, and the generation they select.
#pragma once

#include "codegen/family.hpp"
#include <attnjit/variant.hpp>

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace attnjit::cli {

struct KernelOptions {
  std::optional<std::string> variant;
  std::string family = "auto";
  std::string config;
  std::optional<std::string> arch;
};

void add_kernel_options(CLI::App& command, KernelOptions& options);

// The family the options name for the variant on `arch`: "auto" is the
// preferred one (codegen::preferred_family). Throws CliError for an unknown name.
codegen::Family kernel_family(const Variant& variant, const std::string& name,
                              const codegen::Arch& arch);

// Throws CliError: kBadInput for a bad family or config, kEnvironment when no
// arch is given and no GPU is present.
codegen::Generated generate_kernel(const Variant& variant, const KernelOptions& options);

// The configs to compile, preferred first (codegen::generate_candidates).
std::vector<codegen::Generated> kernel_candidates(const Variant& variant,
                                                  const KernelOptions& options);

}  // namespace attnjit::cli
