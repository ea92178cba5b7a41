#include "tools/codegen_command.hpp"

#include "codegen/family.hpp"
#include "tools/cli_error.hpp"
#include "tools/kernel_options.hpp"
#include "tools/variant_files.hpp"

#include <iostream>
#include <memory>

#include <fmt/format.h>

namespace attnjit::cli {
namespace {

struct CodegenOptions {
  std::string file;
  KernelOptions kernel;
};

int run_codegen(const CodegenOptions& options) {
  const std::vector<Variant> variants = load_variants({options.file}, options.kernel.variant);
  if (variants.size() > 1) {
    throw CliError(kBadInput, fmt::format("'{}' holds {} variants; pick one with --variant",
                                          options.file, variants.size()));
  }
  const codegen::Generated generated = generate_kernel(variants.front(), options.kernel);
  std::cout << generated.kernel.source;
  return kSuccess;
}

}  // namespace

void add_codegen_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<CodegenOptions>();
  CLI::App* command =
      app.add_subcommand("codegen", "Print the CUDA source generated for one variant");
  command->add_option("file", options->file, "Variant file (.attn)")->required();
  add_kernel_options(*command, options->kernel);
  command->callback([options, &run] { run = [options] { return run_codegen(*options); }; });
}

}  // namespace attnjit::cli
