#include "tuner/tuner.hpp"

#include "runtime/cuda_driver.hpp"
#include "runtime/shape_bucket.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace attnjit::tuner {
namespace {

using Clock = std::chrono::steady_clock;

struct Compiled {
  std::string config;
  std::shared_ptr<const CachedKernel> kernel;  // null when the compile failed
  std::string error;
};

// Compiles configs on every core, in plan order, handing each result over as
// it is done; stops taking new configs once told to.
class CompilePool {
 public:
  CompilePool(KernelCache& cache, const Variant& variant, codegen::Family family,
              std::vector<std::string> configs)
      : cache_(&cache), variant_(&variant), family_(family), configs_(std::move(configs)) {
    const unsigned threads = std::min<unsigned>(std::max(1U, std::thread::hardware_concurrency()),
                                                static_cast<unsigned>(configs_.size()));
    for (unsigned t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
  }
  CompilePool(const CompilePool&) = delete;
  CompilePool& operator=(const CompilePool&) = delete;
  CompilePool(CompilePool&&) = delete;
  CompilePool& operator=(CompilePool&&) = delete;
  ~CompilePool() {
    stop();
    for (std::jthread& worker : workers_) worker.join();
  }

  void stop() { next_ = configs_.size(); }

  // The next finished compile; empty once every started one has been handed out.
  std::optional<Compiled> next() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !done_.empty() || finished_ == workers_.size(); });
    if (done_.empty()) return std::nullopt;
    Compiled out = std::move(done_.front());
    done_.pop_front();
    return out;
  }

 private:
  void work() {
    for (std::size_t i = next_++; i < configs_.size(); i = next_++) {
      Compiled result{configs_[i], nullptr, {}};
      try {
        result.kernel = cache_->get(*variant_, family_, configs_[i]);
      } catch (const std::exception& error) {
        result.error = error.what();
      }
      const std::lock_guard lock(mutex_);
      done_.push_back(std::move(result));
      ready_.notify_one();
    }
    const std::lock_guard lock(mutex_);
    ++finished_;
    ready_.notify_all();
  }

  KernelCache* cache_;
  const Variant* variant_;
  codegen::Family family_;
  std::vector<std::string> configs_;
  std::atomic<std::size_t> next_{0};
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Compiled> done_;
  std::size_t finished_ = 0;
  std::vector<std::jthread> workers_;  // last: they start after everything above exists
};

int spill_bytes(const CachedKernel& kernel) {
  return kernel.compiled.report.spill_store_bytes + kernel.compiled.report.spill_load_bytes;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::Measured: return "measured";
    case Outcome::Spills: return "spills";
    case Outcome::CompileFailed: return "compile failed";
    case Outcome::Failed: return "failed";
    case Outcome::OverBudget: return "over budget";
  }
  return "?";
}

std::string variant_text(const Variant& variant) {
  return fmt::format("variant {} {{\n{}}}\n", variant.name(), variant.canonical());
}

Tuner::Tuner(WorkerProcess& worker, std::shared_ptr<db::KernelStore> store, WarningSink warn,
             std::filesystem::path scratch_dir)
    : worker_(&worker),
      store_(std::move(store)),
      warn_(std::move(warn)),
      scratch_dir_(std::move(scratch_dir)) {}

TuneResult Tuner::tune(const Variant& variant, const AttentionShape& shape,
                       const TuneOptions& options,
                       const std::function<void(const Progress&)>& on_progress) {
  const auto start = Clock::now();
  const SetupReply setup =
      worker_->setup({variant_text(variant), shape, options.seed, 256}, options.setup_timeout);
  if (!setup.ok) {
    if (setup.no_gpu) throw NoGpuError(setup.error, CUDA_ERROR_NO_DEVICE);
    throw Error("cannot set up the measurement: " + setup.error);
  }
  const std::optional<codegen::Arch> arch = codegen::parse_arch(setup.arch);
  if (!arch) throw Error("the measuring process reports an unknown arch " + setup.arch);

  TuneResult result{variant.name(), shape, setup.gpu, setup.arch, setup.flops, {}, {}, {}, 0, 0,
                    false,          {}};
  KernelCache cache(setup.arch, store_, warn_);
  const codegen::Family family =
      options.family ? *options.family : codegen::preferred_family(variant, *arch, shape.q_len);
  result.family = std::string(codegen::family_name(family));
  result.default_config = cache.get(variant, family, "")->key.config;
  std::vector<std::string> plan =
      plan_configs(variant, family, *arch, options.strategy, options.seed);
  std::erase(plan, result.default_config);

  Progress progress{
      plan.size() + 1, 0, 0, std::nullopt, {}, 0, static_cast<double>(options.budget.count())};
  const auto report = [&](CandidateResult candidate) {
    if (candidate.outcome == Outcome::Measured &&
        (!result.best || candidate.median_ms < result.best->median_ms)) {
      result.best = candidate;
    }
    progress.last = candidate;
    result.candidates.push_back(std::move(candidate));
    progress.settled = result.candidates.size();
    progress.best = result.best;
    progress.elapsed_s = seconds_since(start);
    if (on_progress) on_progress(progress);
  };

  std::filesystem::create_directories(scratch_dir_);
  // Settles one compiled candidate: pruned, over budget, or measured. The
  // default is measured whatever the budget, and first, so that every other
  // candidate has it to be compared with.
  const auto settle = [&](const Compiled& compiled, bool over) {
    ++progress.compiled;
    CandidateResult candidate{compiled.config, Outcome::Failed, 0, 0, 0, compiled.error};
    const bool is_default = compiled.config == result.default_config;
    if (!compiled.kernel) {
      candidate.outcome = Outcome::CompileFailed;
      report(std::move(candidate));
      return;
    }
    const CachedKernel& kernel = *compiled.kernel;
    candidate.registers = kernel.compiled.report.registers;
    candidate.spill_bytes = spill_bytes(kernel);
    if (candidate.spill_bytes > 0) {
      candidate.outcome = Outcome::Spills;
    } else if (over && !is_default) {
      candidate.outcome = Outcome::OverBudget;
    } else {
      const MeasureReply measured = measure(kernel, options);
      candidate.outcome = measured.ok ? Outcome::Measured : Outcome::Failed;
      candidate.median_ms = measured.median_ms;
      candidate.error = measured.error;
      if (is_default && measured.ok) result.default_ms = measured.median_ms;
    }
    report(std::move(candidate));
  };
  settle({result.default_config, cache.get(variant, family, result.default_config), {}}, false);
  CompilePool pool(cache, variant, family, plan);
  while (std::optional<Compiled> compiled = pool.next()) {
    const bool over = seconds_since(start) > static_cast<double>(options.budget.count());
    if (over) pool.stop();
    settle(*compiled, over);
  }
  result.seconds = seconds_since(start);

  if (result.best && store_) {
    const db::TuningRecord record{
        {variant.hash(), result.family, setup.gpu, cache.toolchain(), shape_bucket(shape)},
        result.best->config,
        result.best->median_ms,
        result.default_ms,
        0};
    try {
      store_->put_tuning(record);
      result.stored = true;
    } catch (const db::DbError& error) {
      warn_(fmt::format("cannot store the tuning record: {}", error.what()));
    }
  }
  return result;
}

MeasureReply Tuner::measure(const CachedKernel& kernel, const TuneOptions& options) {
  // The measuring process loads the cubin from a file: a path is all that
  // crosses the pipe.
  const std::filesystem::path cubin =
      scratch_dir_ / fmt::format("{}_{}.cubin", kernel.key.variant_hash, kernel.key.config);
  std::ofstream(cubin, std::ios::binary)
      .write(kernel.compiled.cubin.data(),
             static_cast<std::streamsize>(kernel.compiled.cubin.size()));
  const codegen::GeneratedKernel& generated = kernel.generated.kernel;
  const codegen::DecodeLaunch decode = generated.decode.value_or(codegen::DecodeLaunch{});
  MeasureReply measured = worker_->measure(
      {kernel.key.config, cubin.string(), kernel.compiled.lowered_name, generated.threads,
       generated.smem_bytes, generated.block_m, generated.block_n, generated.tma_maps,
       generated.head_group, generated.persistent, generated.decode.has_value(), decode.ctas_per_sm,
       decode.page_size, 3, options.repetitions},
      options.measure_timeout);
  std::error_code ignored;  // a leftover scratch file is harmless
  std::filesystem::remove(cubin, ignored);
  return measured;
}

}  // namespace attnjit::tuner
