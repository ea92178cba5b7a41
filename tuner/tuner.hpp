// Tuning one variant on one shape: compile the planned configs on every core
// while the measuring process times those already compiled, keep the fastest
// that computes the right answer, and store it as a tuning record that the
// engine picks up for nearby shapes.
#pragma once

#include "codegen/family.hpp"
#include "db/kernel_store.hpp"
#include "runtime/kernel_cache.hpp"
#include "tuner/plan.hpp"
#include "tuner/worker_process.hpp"
#include <attnjit/reference.hpp>
#include <attnjit/variant.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnjit::tuner {

struct TuneOptions {
  // Empty: the preferred family for the variant on the measuring GPU.
  std::optional<codegen::Family> family;
  Strategy strategy = Strategy::Exhaustive;
  // Wall time for one variant and shape; the default config is measured
  // whatever the budget, the rest while it lasts.
  std::chrono::seconds budget{60};
  std::uint64_t seed = 1;
  int repetitions = 20;
  std::chrono::milliseconds setup_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds measure_timeout{std::chrono::seconds(20)};
};

enum class Outcome : std::uint8_t {
  Measured,       // correct, and timed
  Spills,         // pruned by its compile report
  CompileFailed,  // NVRTC refused it
  Failed,         // a fault, a hang or a wrong result
  OverBudget,     // compiled, but the budget ran out before its turn
};

std::string_view outcome_name(Outcome outcome);

struct CandidateResult {
  std::string config;
  Outcome outcome = Outcome::Failed;
  double median_ms = 0;
  int registers = 0;
  int spill_bytes = 0;
  std::string error;
};

struct TuneResult {
  std::string variant_name;
  AttentionShape shape;
  std::string gpu;
  std::string arch;
  double flops = 0;                         // of one forward pass
  std::vector<CandidateResult> candidates;  // in the order they were settled
  std::optional<CandidateResult> best;
  std::string default_config;
  double default_ms = 0;  // 0 when the default itself failed
  double seconds = 0;
  bool stored = false;
  std::string family;  // the family tuned
};

struct Progress {
  std::size_t planned = 0;
  std::size_t compiled = 0;
  std::size_t settled = 0;  // measured, pruned or failed
  std::optional<CandidateResult> best;
  CandidateResult last;  // the one just settled
  double elapsed_s = 0;
  double budget_s = 0;
};

class Tuner {
 public:
  // Kernels go through a KernelCache over `store` (null: memory only), which
  // also receives the tuning records. Cubins for the measuring process are
  // written under `scratch_dir`.
  Tuner(WorkerProcess& worker, std::shared_ptr<db::KernelStore> store, WarningSink warn,
        std::filesystem::path scratch_dir);

  // Throws NoGpuError when the measuring process finds no GPU, Error when it
  // cannot be set up, SpecError when the family cannot run the variant.
  TuneResult tune(const Variant& variant, const AttentionShape& shape, const TuneOptions& options,
                  const std::function<void(const Progress&)>& on_progress);

 private:
  MeasureReply measure(const CachedKernel& kernel, const TuneOptions& options);

  WorkerProcess* worker_;
  std::shared_ptr<db::KernelStore> store_;
  WarningSink warn_;
  std::filesystem::path scratch_dir_;
};

// `variant NAME { canonical statements }`: text that parses back to the variant.
std::string variant_text(const Variant& variant);

}  // namespace attnjit::tuner
