#include "tools/compile_command.hpp"

#include "runtime/kernel_cache.hpp"
#include "tools/cli_error.hpp"
#include "tools/kernel_options.hpp"
#include "tools/variant_files.hpp"

#include <algorithm>
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
  std::string cache_dir;
  bool no_cache = false;
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
  std::vector<codegen::Family> families;
  for (const Variant& variant : variants) {
    try {
      (void)kernel_candidates(variant, options.kernel);
    } catch (const CliError& error) {
      std::cerr << "attnjit: " << error.what() << "\n";
      status = error.status();
      continue;
    }
    compiled.push_back(&variant);
    families.push_back(kernel_family(variant, options.kernel.family, *codegen::parse_arch(arch)));
  }
  const WarningSink warn = [](const std::string& message) {
    std::cerr << "attnjit: warning: " << message << "\n";
  };
  KernelCache cache(arch, options.no_cache ? nullptr : open_cache(options.cache_dir, warn), warn);
  const std::vector<KernelCache::Outcome> outcomes =
      cache.get_all(compiled, families, options.kernel.config);

  nlohmann::json listed = nlohmann::json::array();
  std::string table =
      fmt::format("{:<20} {:<16} {:<9} {:<22} {:<7} {:>5} {:>7} {:>6} {:>9} {}\n", "variant",
                  "hash", "family", "config", "arch", "regs", "smem", "spills", "ms", "from");
  for (std::size_t i = 0; i < compiled.size(); ++i) {
    const Variant& variant = *compiled[i];
    if (!outcomes[i].kernel) {
      std::cerr << outcomes[i].error << "\n";
      status = kEnvironment;
      continue;
    }
    const CachedKernel& kernel = *outcomes[i].kernel;
    const codegen::Generated& generated = kernel.generated;
    const CompileReport& report = kernel.compiled.report;
    if (!options.cubin_dir.empty()) {
      std::string name = generated.kernel.file_name;
      write_cubin(options.cubin_dir, name.replace(name.size() - 3, 3, ".cubin"),
                  kernel.compiled.cubin);
    }
    const int smem = report.static_smem_bytes + generated.kernel.smem_bytes;
    const int spills = report.spill_store_bytes + report.spill_load_bytes;
    // A cached kernel reports what its compile cost when it was built.
    const double compile_ms =
        kernel.origin == KernelOrigin::Compiled ? kernel.compile_ms : report.compile_ms;
    listed.push_back({{"variant", variant.name()},
                      {"hash", variant.hash()},
                      {"family", kernel.key.family},
                      {"config", generated.config},
                      {"arch", arch},
                      {"registers", report.registers},
                      {"smem_bytes", smem},
                      {"spill_bytes", spills},
                      {"stack_bytes", report.stack_bytes},
                      {"compile_ms", compile_ms},
                      {"cubin_bytes", kernel.compiled.cubin.size()},
                      {"cached", kernel.origin != KernelOrigin::Compiled}});
    table += fmt::format("{:<20} {:<16} {:<9} {:<22} {:<7} {:>5} {:>7} {:>6} {:>9.1f} {}\n",
                         variant.name(), variant.hash(), kernel.key.family, generated.config, arch,
                         report.registers, smem, spills, compile_ms, origin_name(kernel.origin));
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
  command->add_option("--cache-dir", options->cache_dir,
                      "The kernel cache (default: $ATTNJIT_CACHE_DIR, else ~/.cache/attnjit)");
  command->add_flag("--no-cache", options->no_cache,
                    "Neither read nor write the kernel cache: compile everything");
  command->callback([options, &run] { run = [options] { return run_compile(*options); }; });
}

}  // namespace attnjit::cli
