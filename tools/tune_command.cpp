#include "tools/tune_command.hpp"

#include "runtime/kernel_cache.hpp"
#include "tools/cli_error.hpp"
#include "tools/shape_option.hpp"
#include "tools/variant_files.hpp"
#include "tuner/measure_worker.hpp"
#include "tuner/tuner.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace attnjit::cli {
namespace {

struct TuneCommandOptions {
  std::vector<std::string> files;
  std::vector<std::string> shapes;
  std::optional<std::string> variant;
  std::string family = "auto";
  int budget = 60;
  std::string strategy = "exhaustive";
  std::uint64_t seed = 1;
  bool json = false;
  std::string cache_dir;
  bool no_cache = false;
};

// A scratch directory for the cubins handed to the measuring process.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() / fmt::format("attnjit-tune-{}", ::getpid())) {
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ScratchDir(ScratchDir&&) = delete;
  ScratchDir& operator=(ScratchDir&&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// One line on a terminal, redrawn in place; a line per candidate otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::string label) : label_(std::move(label)), tty_(::isatty(2) != 0) {}

  void operator()(const tuner::Progress& progress, const tuner::CandidateResult& last) {
    const std::string best =
        progress.best
            ? fmt::format("best {:.3f} ms ({})", progress.best->median_ms, progress.best->config)
            : std::string("best -");
    const double left = std::max(0.0, progress.budget_s - progress.elapsed_s);
    if (tty_) {
      constexpr int kWidth = 20;
      const auto filled = static_cast<int>(kWidth * progress.settled / progress.planned);
      std::cerr << fmt::format("\r\x1b[K{} [{}{}] compiled {}/{} measured {}/{}  {}  {:.0f} s left",
                               label_, std::string(static_cast<std::size_t>(filled), '#'),
                               std::string(static_cast<std::size_t>(kWidth - filled), '.'),
                               progress.compiled, progress.planned, progress.settled,
                               progress.planned, best, left)
                << std::flush;
    } else {
      std::cerr << fmt::format(
          "{} {:<24} {:<14} {}\n", label_, last.config, tuner::outcome_name(last.outcome),
          last.outcome == tuner::Outcome::Measured ? fmt::format("{:.3f} ms", last.median_ms)
                                                   : last.error.substr(0, 120));
    }
  }
  void finish() const {
    if (tty_) std::cerr << "\n";
  }

 private:
  std::string label_;
  bool tty_;
};

nlohmann::json to_json(const tuner::TuneResult& result, const std::string& shape) {
  nlohmann::json candidates = nlohmann::json::array();
  for (const tuner::CandidateResult& c : result.candidates) {
    candidates.push_back({{"config", c.config},
                          {"outcome", tuner::outcome_name(c.outcome)},
                          {"median_ms", c.median_ms},
                          {"registers", c.registers},
                          {"spill_bytes", c.spill_bytes},
                          {"error", c.error}});
  }
  const double best_ms = result.best ? result.best->median_ms : 0;
  return {{"variant", result.variant_name},
          {"shape", shape},
          {"gpu", result.gpu},
          {"arch", result.arch},
          {"family", result.family},
          {"best_config", result.best ? result.best->config : ""},
          {"best_ms", best_ms},
          {"best_tflops", best_ms > 0 ? result.flops / (best_ms * 1e-3) / 1e12 : 0},
          {"default_config", result.default_config},
          {"default_ms", result.default_ms},
          {"speedup", best_ms > 0 && result.default_ms > 0 ? result.default_ms / best_ms : 0},
          {"tuning_seconds", result.seconds},
          {"stored", result.stored},
          {"candidates", candidates}};
}

int run_tune(const TuneCommandOptions& options) {
  const auto strategy = tuner::parse_strategy(options.strategy);
  if (!strategy) {
    throw CliError(kBadInput,
                   fmt::format("unknown strategy '{}' (exhaustive, random)", options.strategy));
  }
  std::vector<std::pair<std::string, AttentionShape>> shapes;
  for (const std::string& text : options.shapes) shapes.emplace_back(text, parse_shape(text));
  const std::vector<Variant> variants = load_variants(options.files, options.variant);

  const WarningSink warn = [](const std::string& message) {
    std::cerr << "\nattnjit: warning: " << message << "\n";
  };
  tuner::WorkerProcess worker({"/proc/self/exe", "__measure-worker"});
  const ScratchDir scratch;
  tuner::Tuner tuner(worker, options.no_cache ? nullptr : open_cache(options.cache_dir, warn), warn,
                     scratch.path());
  tuner::TuneOptions tune_options;
  if (options.family != "auto") {
    tune_options.family = codegen::parse_family(options.family);
    if (!tune_options.family) {
      throw CliError(kBadInput,
                     fmt::format("unknown family '{}' (families: auto, {})", options.family,
                                 fmt::join(codegen::family_names(), ", ")));
    }
  }
  tune_options.strategy = *strategy;
  tune_options.budget = std::chrono::seconds(options.budget);
  tune_options.seed = options.seed;

  nlohmann::json all = nlohmann::json::array();
  std::string table = fmt::format(
      "{:<18} {:<26} {:<22} {:>9} {:>8} {:<22} {:>9} {:>7} {:>9} {:>6}\n", "variant", "shape",
      "best config", "best ms", "TFLOP/s", "default config", "def. ms", "speedup", "measured", "s");
  for (const Variant& variant : variants) {
    for (const auto& [text, shape] : shapes) {
      ProgressPrinter printer(fmt::format("[{} {}]", variant.name(), text));
      const tuner::TuneResult result =
          tuner.tune(variant, shape, tune_options,
                     [&](const tuner::Progress& progress) { printer(progress, progress.last); });
      printer.finish();
      nlohmann::json row = to_json(result, text);
      const auto measured = std::count_if(
          result.candidates.begin(), result.candidates.end(),
          [](const tuner::CandidateResult& c) { return c.outcome == tuner::Outcome::Measured; });
      table += fmt::format(
          "{:<18} {:<26} {:<22} {:>9.4f} {:>8.1f} {:<22} {:>9.4f} {:>6.2f}x {:>5}/{:<3} {:>6.1f}\n",
          variant.name(), text, row["best_config"].get<std::string>(), row["best_ms"].get<double>(),
          row["best_tflops"].get<double>(), result.default_config, result.default_ms,
          row["speedup"].get<double>(), measured, result.candidates.size(), result.seconds);
      all.push_back(std::move(row));
    }
  }
  std::cout << (options.json ? all.dump(2) + "\n" : table);
  return kSuccess;
}

}  // namespace

void add_tune_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<TuneCommandOptions>();
  CLI::App* command = app.add_subcommand(
      "tune", "Search configs on GPU 0 for each variant and shape; store the fastest");
  command->add_option("files", options->files, "Variant files (.attn)")->required();
  command->add_option("--shape", options->shapes, "b=2,h=16,hkv=4,sq=8192,sk=8192 (repeatable)")
      ->required();
  command->add_option("--variant", options->variant, "Tune only this variant");
  command->add_option("--family", options->family,
                      "Kernel family: auto (the default), fa2_sm80, fa3_sm90 or decode");
  command->add_option("--budget", options->budget, "Seconds per variant and shape (default 60)")
      ->check(CLI::PositiveNumber);
  command->add_option("--strategy", options->strategy,
                      "exhaustive (the whole space) or random (a shuffled sample)");
  command->add_option("--seed", options->seed, "Seed of the inputs and of the random strategy");
  command->add_flag("--json", options->json, "Print one JSON array on stdout");
  command->add_option("--cache-dir", options->cache_dir,
                      "The kernel cache (default: $ATTNJIT_CACHE_DIR, else ~/.cache/attnjit)");
  command->add_flag("--no-cache", options->no_cache, "Store neither kernels nor tuning records");
  command->callback([options, &run] { run = [options] { return run_tune(*options); }; });

  // The measuring process of `tune`: the protocol of tuner/protocol.hpp on
  // stdin and stdout. Hidden: an empty group keeps it out of --help.
  CLI::App* worker = app.add_subcommand("__measure-worker", "")->group("");
  worker->callback([&run] { run = [] { return tuner::run_measure_worker(std::cin, std::cout); }; });
}

}  // namespace attnjit::cli
