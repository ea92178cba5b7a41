#include "tools/cache_command.hpp"

#include "db/cache_location.hpp"
#include "db/kernel_store.hpp"
#include "runtime/compile_lock.hpp"
#include "tools/cli_error.hpp"
#include "tools/sizes_and_times.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace attnjit::cli {
namespace {

// One set for every subcommand: only one of them runs.
struct CacheOptions {
  std::string cache_dir;  // empty: from the environment
  bool json = false;
  std::int64_t id = 0;
  std::string file;
  std::optional<std::string> older_than;
  std::optional<std::string> max_size;
};

std::filesystem::path directory(const CacheOptions& options) {
  if (options.cache_dir.empty()) return db::cache_dir(std::nullopt);
  return db::cache_dir(std::filesystem::path(options.cache_dir));
}

// Commands that only read leave a missing cache missing: nullopt stands for
// an empty one.
std::optional<db::KernelStore> open_existing(const CacheOptions& options) {
  const std::filesystem::path file = db::database_file(directory(options));
  if (!std::filesystem::exists(file)) return std::nullopt;
  return db::KernelStore(file);
}

db::KernelStore open_for_writing(const CacheOptions& options) {
  const std::filesystem::path dir = directory(options);
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    throw CliError(kEnvironment, fmt::format("cannot create the cache directory '{}': {}",
                                             dir.string(), error.message()));
  }
  return db::KernelStore(db::database_file(dir));
}

db::StoredKernel stored_kernel(const CacheOptions& options) {
  const std::optional<db::KernelStore> store = open_existing(options);
  std::optional<db::StoredKernel> stored = store ? store->get(options.id) : std::nullopt;
  if (!stored) throw CliError(kBadInput, fmt::format("no kernel with id {}", options.id));
  return std::move(*stored);
}

std::string counted(std::int64_t count, std::string_view noun) {
  return fmt::format("{} {}{}", count, noun, count == 1 ? "" : "s");
}

// What names a kernel, in `ls --json` and `show --json` alike.
nlohmann::json kernel_json(std::int64_t id, const std::string& variant_name,
                           const db::KernelKey& key) {
  return {{"id", id},
          {"variant", variant_name},
          {"hash", key.variant_hash},
          {"family", key.family},
          {"config", key.config},
          {"arch", key.arch},
          {"toolchain", key.toolchain}};
}

void print_json(const nlohmann::json& document) { std::cout << document.dump(2) << "\n"; }

int run_ls(const CacheOptions& options) {
  const std::optional<db::KernelStore> store = open_existing(options);
  const std::vector<db::KernelSummary> kernels =
      store ? store->list() : std::vector<db::KernelSummary>{};
  nlohmann::json listed = nlohmann::json::array();
  constexpr const char* kRow =
      "{:>5} {:<20} {:<16} {:<9} {:<24} {:<7} {:>5} {:>7} {:>6} {:>7} {:<16} {}\n";
  std::string table = fmt::format(kRow, "id", "variant", "hash", "family", "config", "arch", "regs",
                                  "smem", "spills", "cubin", "created", "last used");
  for (const db::KernelSummary& kernel : kernels) {
    const int smem = kernel.usage.static_smem + kernel.launch.dynamic_smem;
    nlohmann::json entry = kernel_json(kernel.id, kernel.variant_name, kernel.key);
    entry.update({{"registers", kernel.usage.registers},
                  {"smem_bytes", smem},
                  {"spill_bytes", kernel.usage.spill_bytes},
                  {"cubin_bytes", kernel.cubin_bytes},
                  {"created", kernel.created},
                  {"last_used", kernel.last_used}});
    listed.push_back(std::move(entry));
    table += fmt::format(
        kRow, kernel.id, kernel.variant_name, kernel.key.variant_hash, kernel.key.family,
        kernel.key.config, kernel.key.arch, kernel.usage.registers, smem, kernel.usage.spill_bytes,
        human_size(kernel.cubin_bytes), local_time(kernel.created), local_time(kernel.last_used));
  }
  if (options.json) {
    print_json(listed);
  } else {
    std::cout << table;
  }
  return kSuccess;
}

int run_show(const CacheOptions& options) {
  const db::StoredKernel stored = stored_kernel(options);
  const db::KernelRecord& record = stored.record;
  const bool checksum_ok =
      db::checksum_hex(record.cubin.data(), record.cubin.size()) == stored.cubin_sha256;
  const auto cubin_bytes = static_cast<std::int64_t>(record.cubin.size());
  const auto source_bytes = static_cast<std::int64_t>(record.source.size());
  if (options.json) {
    nlohmann::json shown = kernel_json(stored.id, record.variant_name, record.key);
    shown.update({{"entry", record.launch.entry},
                  {"threads", record.launch.threads},
                  {"dynamic_smem", record.launch.dynamic_smem},
                  {"block_m", record.launch.block_m},
                  {"registers", record.usage.registers},
                  {"static_smem", record.usage.static_smem},
                  {"spill_bytes", record.usage.spill_bytes},
                  {"stack_bytes", record.usage.stack_bytes},
                  {"compile_ms", record.usage.compile_ms},
                  {"cubin_bytes", cubin_bytes},
                  {"cubin_sha256", stored.cubin_sha256},
                  {"checksum_ok", checksum_ok},
                  {"source_bytes", source_bytes},
                  {"source_hash", record.source_hash},
                  {"created", stored.created},
                  {"last_used", stored.last_used},
                  {"canonical", record.canonical}});
    print_json(shown);
    return kSuccess;
  }
  std::string out;
  const auto line = [&](std::string_view name, const auto& value) {
    out += fmt::format("{:<14}{}\n", name, value);
  };
  line("id", stored.id);
  line("variant", fmt::format("{} {}", record.variant_name, record.key.variant_hash));
  line("family", record.key.family);
  line("config", record.key.config);
  line("arch", record.key.arch);
  line("toolchain", record.key.toolchain);
  line("entry", record.launch.entry);
  line("threads", record.launch.threads);
  line("block_m", record.launch.block_m);
  line("dynamic smem", record.launch.dynamic_smem);
  line("static smem", record.usage.static_smem);
  line("registers", record.usage.registers);
  line("spill bytes", record.usage.spill_bytes);
  line("stack bytes", record.usage.stack_bytes);
  line("compile ms", fmt::format("{:.1f}", record.usage.compile_ms));
  line("cubin", fmt::format("{} ({} bytes)", human_size(cubin_bytes), cubin_bytes));
  line("cubin sha256", fmt::format("{} ({})", stored.cubin_sha256,
                                   checksum_ok ? "matches" : "DOES NOT MATCH the cubin"));
  line("source", fmt::format("{} ({} bytes)", human_size(source_bytes), source_bytes));
  line("source hash", record.source_hash);
  line("created", local_time(stored.created));
  line("last used", local_time(stored.last_used));
  out += "canonical\n";
  std::istringstream canonical(record.canonical);
  for (std::string text; std::getline(canonical, text);) out += "  " + text + "\n";
  std::cout << out;
  return kSuccess;
}

int run_source(const CacheOptions& options) {
  std::cout << stored_kernel(options).record.source;
  return kSuccess;
}

int run_stats(const CacheOptions& options) {
  const std::filesystem::path file = db::database_file(directory(options));
  const std::optional<db::KernelStore> store = open_existing(options);
  const db::Stats stats = store ? store->stats() : db::Stats{};
  if (options.json) {
    print_json({{"database", file.string()},
                {"variants", stats.variants},
                {"kernels", stats.kernels},
                {"tuning_records", stats.tuning_records},
                {"cubin_bytes", stats.cubin_bytes},
                {"file_bytes", stats.file_bytes}});
    return kSuccess;
  }
  std::cout << fmt::format(
      "database        {}\nvariants        {}\nkernels         {}\ntuning records  {}\n"
      "cubins          {} ({} bytes)\nfile            {} ({} bytes)\n",
      file.string(), stats.variants, stats.kernels, stats.tuning_records,
      human_size(stats.cubin_bytes), stats.cubin_bytes, human_size(stats.file_bytes),
      stats.file_bytes);
  return kSuccess;
}

int run_verify(const CacheOptions& options) {
  const std::optional<db::KernelStore> store = open_existing(options);
  const db::VerifyReport report = store ? store->verify() : db::VerifyReport{};
  if (options.json) {
    print_json({{"ok", report.ok()},
                {"integrity", report.integrity},
                {"bad_kernels", report.bad_checksums}});
  } else if (report.ok()) {
    std::cout << "ok\n";
  } else {
    for (const std::string& problem : report.integrity)
      std::cout << "integrity: " << problem << "\n";
    for (const std::int64_t id : report.bad_checksums) {
      std::cout << fmt::format("kernel {}: the cubin does not match its checksum or is no cubin\n",
                               id);
    }
  }
  // A damaged cache is bad input to this command, the closest of the contract's statuses.
  return report.ok() ? kSuccess : kBadInput;
}

int run_prune(const CacheOptions& options) {
  if (!options.older_than && !options.max_size) {
    throw CliError(kUsage, "prune needs --older-than DURATION, --max-size SIZE or both");
  }
  std::optional<std::chrono::seconds> older_than;
  std::optional<std::int64_t> max_size;
  if (options.older_than) older_than = parse_duration(*options.older_than);
  if (options.max_size) max_size = parse_size(*options.max_size);
  const std::int64_t removed = open_for_writing(options).prune(older_than, max_size);
  std::cout << fmt::format("removed {}\n", counted(removed, "kernel"));
  return kSuccess;
}

int run_clear(const CacheOptions& options) {
  const std::int64_t removed = open_for_writing(options).clear();
  // The compile locks go too; one still held only lets a second process compile again.
  std::error_code ignored;
  std::filesystem::remove_all(compile_lock_dir(directory(options)), ignored);
  std::cout << fmt::format("removed {}\n", counted(removed, "kernel"));
  return kSuccess;
}

// Runs an export or import, whose counts it prints; a problem with the file
// the user named is bad input.
template <class Transfer>
int transfer_file(const CacheOptions& options, std::string_view done, std::string_view preposition,
                  Transfer transfer) {
  db::ImportCounts counts;
  try {
    counts = transfer();
  } catch (const db::DbError& error) {
    throw CliError(kBadInput, error.what());
  }
  std::cout << fmt::format("{} {}, {}, {} {} {}\n", done, counted(counts.variants, "variant"),
                           counted(counts.kernels, "kernel"),
                           counted(counts.tuning_records, "tuning record"), preposition,
                           options.file);
  return kSuccess;
}

int run_export(const CacheOptions& options) {
  const db::KernelStore store = open_for_writing(options);
  return transfer_file(options, "exported", "to", [&] {
    const db::Stats stats = store.stats();
    store.export_to(options.file);
    return db::ImportCounts{stats.variants, stats.kernels, stats.tuning_records};
  });
}

int run_import(const CacheOptions& options) {
  db::KernelStore store = open_for_writing(options);
  return transfer_file(options, "imported", "from",
                       [&] { return store.import_from(options.file); });
}

int run_path(const CacheOptions& options) {
  std::cout << directory(options).string() << "\n";
  return kSuccess;
}

using Runner = int (*)(const CacheOptions&);

}  // namespace

void add_cache_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<CacheOptions>();
  CLI::App* cache = app.add_subcommand("cache", "Look into and look after the kernel cache");
  cache->require_subcommand(1);
  const auto add = [&](const char* name, const char* description, Runner runner) {
    CLI::App* command = cache->add_subcommand(name, description);
    command->add_option("--cache-dir", options->cache_dir,
                        "The cache directory (default: $ATTNJIT_CACHE_DIR, "
                        "$XDG_CACHE_HOME/attnjit or ~/.cache/attnjit)");
    command->callback(
        [options, runner, &run] { run = [options, runner] { return runner(*options); }; });
    return command;
  };
  const auto with_json = [&](CLI::App* command) {
    command->add_flag("--json", options->json, "Print one JSON document on stdout");
  };
  with_json(add("ls", "List the cached kernels", run_ls));
  CLI::App* show =
      add("show", "Show everything about one kernel but its cubin and source", run_show);
  show->add_option("id", options->id, "The kernel's id, as `ls` prints it")->required();
  with_json(show);
  add("source", "Print the CUDA source a kernel was built from", run_source)
      ->add_option("id", options->id, "The kernel's id, as `ls` prints it")
      ->required();
  with_json(add("stats", "Count the cache's variants, kernels and tuning records", run_stats));
  with_json(
      add("verify", "Check the database and every cubin's checksum; exit 1 on damage", run_verify));
  CLI::App* prune =
      add("prune", "Remove kernels unused for a while, or the least recently used", run_prune);
  prune->add_option("--older-than", options->older_than,
                    "Remove kernels last used longer ago than this: 30d, 12h, 90m, 45s");
  prune->add_option("--max-size", options->max_size,
                    "Then remove the least recently used until the cubins fit: 500M, 2G, 100K");
  add("clear", "Remove every kernel, variant and tuning record", run_clear);
  add("export", "Write the whole cache to a new database file", run_export)
      ->add_option("file", options->file, "The file to create")
      ->required();
  add("import", "Add the kernels and tuning records of an exported file", run_import)
      ->add_option("file", options->file, "A file written by `attnjit cache export`")
      ->required();
  add("path", "Print the cache directory", run_path);
}

}  // namespace attnjit::cli
