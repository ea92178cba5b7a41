#include "tools/compile_command.hpp"

#include "runtime/build_kernels.hpp"
#include "tools/cli_error.hpp"
#include "tools/kernel_options.hpp"
#include "tools/variant_files.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace attnjit::cli {
namespace {

struct CompileCommandOptions {
  std::vector<std::string> files;
  KernelOptions kernel;
  bool json = false;
  std::string cubin_dir;
};

void write_cubin(const std::string& dir, const std::string& name, const std::vector<char>& cubin) {
  const std::filesystem::path path = std::filesystem::path(dir) / name;
  std::ofstream out(path, std::ios::binary);
  out.write(cubin.data(), static_cast<std::streamsize>(cubin.size()));
  if (!out) throw CliError(kBadInput, fmt::format("cannot write '{}'", path.string()));
}

int run_compile(const CompileCommandOptions& options) {
  const std::vector<Variant> variants = load_variants(options.files, options.kernel.variant);
  const std::string arch = target_arch(options.kernel.arch).name();
  int status = kSuccess;
  // A variant the family cannot take is reported and skipped; the rest still compile.
  std::vector<const Variant*> compiled;
  std::vector<std::vector<codegen::Generated>> candidates;
  for (const Variant& variant : variants) {
    try {
      candidates.push_back(kernel_candidates(variant, options.kernel));
    } catch (const CliError& error) {
      std::cerr << "attnjit: " << error.what() << "\n";
      status = error.status();
      continue;
    }
    compiled.push_back(&variant);
  }
  const std::vector<BuildOutcome> outcomes = build_kernels(candidates, arch);

  nlohmann::json listed = nlohmann::json::array();
  std::string table =
      fmt::format("{:<20} {:<16} {:<9} {:<22} {:<7} {:>5} {:>7} {:>6} {:>9}\n", "variant", "hash",
                  "family", "config", "arch", "regs", "smem", "spills", "ms");
  for (std::size_t i = 0; i < compiled.size(); ++i) {
    const Variant& variant = *compiled[i];
    const BuildOutcome& outcome = outcomes[i];
    if (!outcome.kernel) {
      std::cerr << outcome.error << "\n";
      status = kEnvironment;
      continue;
    }
    const codegen::Generated& generated = outcome.kernel->generated;
    const CompileReport& report = outcome.kernel->compiled.report;
    if (!options.cubin_dir.empty()) {
      std::string name = generated.kernel.file_name;
      write_cubin(options.cubin_dir, name.replace(name.size() - 3, 3, ".cubin"),
                  outcome.kernel->compiled.cubin);
    }
    const int smem = report.static_smem_bytes + generated.kernel.smem_bytes;
    const int spills = report.spill_store_bytes + report.spill_load_bytes;
    listed.push_back({{"variant", variant.name()},
                      {"hash", variant.hash()},
                      {"family", options.kernel.family},
                      {"config", generated.config},
                      {"arch", arch},
                      {"registers", report.registers},
                      {"smem_bytes", smem},
                      {"spill_bytes", spills},
                      {"stack_bytes", report.stack_bytes},
                      {"compile_ms", outcome.kernel->total_compile_ms},
                      {"cubin_bytes", outcome.kernel->compiled.cubin.size()},
                      {"cached", false}});
    table += fmt::format("{:<20} {:<16} {:<9} {:<22} {:<7} {:>5} {:>7} {:>6} {:>9.1f}\n",
                         variant.name(), variant.hash(), options.kernel.family, generated.config,
                         arch, report.registers, smem, spills, outcome.kernel->total_compile_ms);
  }
  std::cout << (options.json ? listed.dump(2) + "\n" : table);
  return status;
}

}  // namespace

void add_compile_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<CompileCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "compile", "Compile variants to cubins with NVRTC and report registers, memory, spills");
  command->add_option("files", options->files, "Variant files (.attn)")->required();
  add_kernel_options(*command, options->kernel);
  command->add_flag("--json", options->json, "Print one JSON array on stdout");
  command
      ->add_option("--cubin-dir", options->cubin_dir,
                   "Also write each cubin there, as <variant>_<family>_<arch>.cubin")
      ->check(CLI::ExistingDirectory);
  command->callback([options, &run] { run = [options] { return run_compile(*options); }; });
}

}  // namespace attnjit::cli
