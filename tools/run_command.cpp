#include "tools/run_command.hpp"

#include "harness/compare.hpp"
#include "harness/device_problem.hpp"
#include "harness/host_problem.hpp"
#include "harness/launch_timer.hpp"
#include "language/hyper_plan.hpp"
#include "runtime/cuda_driver.hpp"
#include "tools/cli_error.hpp"
#include "tools/kernel_options.hpp"
#include "tools/shape_option.hpp"
#include "tools/variant_files.hpp"
#include <attnjit/engine.hpp>
#include <attnjit/reference.hpp>

#include <algorithm>
#include <charconv>
#include <iostream>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace attnjit::cli {
namespace {

struct RunOptions {
  std::string file;
  std::string shape;
  KernelOptions kernel;
  std::vector<std::string> params;
  bool check = false;
  bool vs_exact = false;
  double qk_scale = 1.0;
  int outlier_channels = 0;
  bool fp8_block_scales = false;
  int iters = 0;
  bool json = false;
  std::string cache_dir;
  bool no_cache = false;
};

ParamValue parse_param(const Variant& variant, std::string_view item) {
  const std::size_t eq = item.find('=');
  const std::string name(item.substr(0, eq));
  const ParamDecl* decl = variant.find_param(name);
  if (eq == std::string_view::npos || decl == nullptr) {
    throw CliError(kBadInput, fmt::format("--param '{}': expected NAME=VALUE with a param of "
                                          "variant '{}'",
                                          item, variant.name()));
  }
  const std::string_view text = item.substr(eq + 1);
  auto bad = [&] {
    return CliError(kBadInput,
                    fmt::format("--param '{}': not a {} value", item, param_type_name(decl->type)));
  };
  switch (decl->type) {
    case ParamType::Bool:
      if (text == "true" || text == "false") return text == "true";
      throw bad();
    case ParamType::I32: {
      std::int32_t value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size()) throw bad();
      return value;
    }
    case ParamType::F32: {
      float value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size()) throw bad();
      return value;
    }
  }
  throw bad();
}

int run_run(const RunOptions& options) {
  const std::vector<Variant> variants = load_variants({options.file}, options.kernel.variant);
  if (variants.size() > 1) {
    throw CliError(kBadInput, fmt::format("'{}' holds {} variants; pick one with --variant",
                                          options.file, variants.size()));
  }
  const Variant& variant = variants.front();
  const AttentionShape shape = parse_shape(options.shape);
  harness::ProblemOptions problem_options;
  problem_options.draw_defaulted_params = false;
  problem_options.qk_scale = options.qk_scale;
  problem_options.outlier_channels = options.outlier_channels;
  problem_options.fp8_block_scales = options.fp8_block_scales;
  for (const std::string& item : options.params) {
    problem_options.params[item.substr(0, item.find('='))] = parse_param(variant, item);
  }

  std::optional<Driver> driver;
  try {
    driver.emplace();
  } catch (const NoGpuError& error) {
    throw CliError(kEnvironment, error.what());
  }
  const Context context(*driver, 0);
  EngineOptions engine_options;
  if (options.kernel.family != "auto") {
    engine_options.family = codegen::family_name(
        kernel_family(variant, options.kernel.family, *codegen::parse_arch(context.arch())));
  }
  engine_options.cache_dir = options.cache_dir;
  engine_options.use_cache = !options.no_cache;
  Engine engine(engine_options);
  const Kernel kernel = [&] {
    try {
      return options.kernel.config.empty() ? engine.kernel(variant, shape)
                                           : engine.kernel(variant, shape, options.kernel.config);
    } catch (const SpecError& error) {
      throw CliError(kBadInput, error.what());
    }
  }();

  const harness::HostProblem host = harness::random_problem(variant, shape, problem_options);
  harness::DeviceProblem device(context, variant, host, harness::Layout::BHSD, true);
  const FwdInputs inputs = device.inputs();
  const Stream stream(context);
  device.poison_outputs();
  kernel.launch(inputs, stream.get());
  stream.synchronize();

  nlohmann::json result = {{"variant", variant.name()},
                           {"hash", variant.hash()},
                           {"shape", options.shape},
                           {"family", kernel.family()},
                           {"config", kernel.config()},
                           {"arch", engine.arch()},
                           {"registers", kernel.registers()},
                           {"spill_bytes", kernel.spill_bytes()},
                           {"kernel_from", origin_name(kernel.origin())},
                           {"acquire_ms", kernel.acquire_ms()}};
  int status = kSuccess;
  if (options.check) {
    const ReferenceOutput want = reference_attention(variant, host.reference_inputs());
    const harness::Comparison out =
        harness::compare(device.output(), want.out, harness::output_tolerance(variant), "O");
    const harness::Comparison lse =
        harness::compare(device.lse(), want.lse, harness::lse_tolerance(variant), "LSE");
    result["check"] = {{"ok", out.ok() && lse.ok()},
                       {"max_abs_error", out.max_abs_error},
                       {"cosine_similarity", harness::cosine_similarity(device.output(), want.out)},
                       {"relative_l1_error", harness::relative_l1_error(device.output(), want.out)},
                       {"bad", out.bad + lse.bad},
                       {"first_bad", out.ok() ? lse.first_bad : out.first_bad}};
    if (!out.ok() || !lse.ok()) status = kBadInput;
  }
  std::optional<Kernel> exact;
  if (options.vs_exact) {
    if (!variant.hyper() && !variant.quant()) {
      throw CliError(kBadInput,
                     fmt::format("--vs-exact: variant '{}' approximates nothing", variant.name()));
    }
    exact.emplace(engine.kernel(exact_of(variant), shape));
    const std::vector<double> approx = device.output();
    device.poison_outputs();
    exact->launch(inputs, stream.get());
    stream.synchronize();
    const std::vector<double> want = device.output();
    result["vs_exact"] = {{"relative_error", harness::relative_l2_error(approx, want)}};
  }
  if (options.iters > 0) {
    for (int i = 0; i < 3; ++i) {
      kernel.launch(inputs, stream.get());
    }
    harness::LaunchTimer timer(context);
    const harness::LaunchTimes times = timer.time(
        stream, [&] { kernel.launch(inputs, stream.get()); }, options.iters);
    const double ms = times.median_ms;
    result["launch_us"] = times.host_us;
    const double flops = harness::attention_flops(variant, host);
    result["ms"] = ms;
    result["tflops"] = flops / (ms * 1e-3) / 1e12;
    if (kernel.takes_tile_classes()) {
      // As the layers of a model share its document ids: the mask's tile
      // classes made once, outside the time, as FlexAttention's block mask is.
      FwdInputs reusing = inputs;
      reusing.tile_classes = kernel.classify(inputs, stream.get());
      result["reused_classes_ms"] =
          timer
              .time(
                  stream, [&] { kernel.launch(reusing, stream.get()); }, options.iters)
              .median_ms;
    }
    if (exact) {
      const double exact_ms =
          timer
              .time(
                  stream, [&] { exact->launch(inputs, stream.get()); }, options.iters)
              .median_ms;
      result["vs_exact"]["exact_ms"] = exact_ms;
      result["vs_exact"]["speedup"] = exact_ms / ms;
    }
  }
  if (options.json) {
    std::cout << result.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} {} {} {} regs={} kernel={} in {:.1f} ms", variant.name(),
                             options.shape, kernel.family(), kernel.config(), kernel.registers(),
                             origin_name(kernel.origin()), kernel.acquire_ms());
    if (result.contains("check")) {
      const nlohmann::json& check = result["check"];
      std::cout << fmt::format(
          " check={} max_err={:.3g} cos={:.6f} rel_l1={:.3g}",
          check["ok"].get<bool>() ? "ok" : "FAILED", check["max_abs_error"].get<double>(),
          check["cosine_similarity"].get<double>(), check["relative_l1_error"].get<double>());
    }
    if (result.contains("ms")) {
      std::cout << fmt::format(" {:.4f} ms {:.1f} TFLOP/s", result["ms"].get<double>(),
                               result["tflops"].get<double>());
      if (result.contains("reused_classes_ms")) {
        std::cout << fmt::format(" (tile classes made once: {:.4f} ms)",
                                 result["reused_classes_ms"].get<double>());
      }
    }
    if (result.contains("vs_exact")) {
      const nlohmann::json& vs = result["vs_exact"];
      std::cout << fmt::format(" rel_err_vs_exact={:.4g}", vs["relative_error"].get<double>());
      if (vs.contains("exact_ms")) {
        std::cout << fmt::format(" exact {:.4f} ms speedup {:.2f}x", vs["exact_ms"].get<double>(),
                                 vs["speedup"].get<double>());
      }
    }
    std::cout << "\n";
    if (status != kSuccess)
      std::cerr << "attnjit: " << result["check"]["first_bad"].get<std::string>() << "\n";
  }
  return status;
}

}  // namespace

void add_run_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand(
      "run", "Run one variant on GPU 0 with random inputs; check it and time it");
  command->add_option("file", options->file, "Variant file (.attn)")->required();
  command->add_option("--shape", options->shape, "b=2,h=16,hkv=4,sq=8192,sk=8192")->required();
  add_kernel_options(*command, options->kernel);
  command->add_option("--param", options->params, "A param's value, NAME=VALUE (repeatable)");
  command->add_flag("--check", options->check,
                    "Compare with the CPU reference (slow for big shapes)");
  command->add_flag("--vs-exact", options->vs_exact,
                    "For an approximation: run the exact variant too and report the relative "
                    "L2 error of O (and, with --iters, its time)");
  command
      ->add_option("--qk-scale", options->qk_scale,
                   "Standard deviation of the random Q and K (default 1; larger peaks the "
                   "softmax)")
      ->check(CLI::PositiveNumber);
  command
      ->add_option("--outliers", options->outlier_channels,
                   "Scale this many channels of Q and K by factors in [10, 100] (the outliers "
                   "of LLM activations)")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--fp8-block-scales", options->fp8_block_scales,
                    "Quantise fp8 inputs with a factor per query row, per 64 keys and per V "
                    "channel, not per head");
  command
      ->add_option("--iters", options->iters,
                   "Time this many launches as the peers' benchmark does; print the median")
      ->check(CLI::NonNegativeNumber);
  command->add_flag("--json", options->json, "Print one JSON object on stdout");
  command->add_option("--cache-dir", options->cache_dir,
                      "The kernel cache (default: $ATTNJIT_CACHE_DIR, else ~/.cache/attnjit)");
  command->add_flag("--no-cache", options->no_cache,
                    "Compile without reading or writing the cache");
  command->callback([options, &run] { run = [options] { return run_run(*options); }; });
}

}  // namespace attnjit::cli
