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
  std::string family = "fa2_sm80";
  std::string config;
  std::optional<std::string> arch;
};

void add_kernel_options(CLI::App& command, KernelOptions& options);

// Throws CliError: kBadInput for a bad family or config, kEnvironment when no
// arch is given and no GPU is present.
codegen::Generated generate_kernel(const Variant& variant, const KernelOptions& options);

// The configs to compile, preferred first (codegen::generate_candidates).
std::vector<codegen::Generated> kernel_candidates(const Variant& variant,
                                                  const KernelOptions& options);

}  // namespace attnjit::cli
