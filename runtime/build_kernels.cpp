#include "runtime/build_kernels.hpp"

#include "runtime/kernel_job.hpp"

namespace attnjit {

std::vector<BuildOutcome> build_kernels(
    const std::vector<std::vector<codegen::Generated>>& candidates, const std::string& arch) {
  std::vector<BuildOutcome> out(candidates.size());
  std::vector<double> spent(candidates.size(), 0.0);
  std::vector<std::size_t> pending;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (!candidates[i].empty()) pending.push_back(i);
  }
  for (std::size_t round = 0; !pending.empty(); ++round) {
    std::vector<std::pair<KernelSource, CompileOptions>> jobs;
    jobs.reserve(pending.size());
    for (const std::size_t i : pending) {
      jobs.emplace_back(kernel_job(candidates[i][round].kernel), CompileOptions{arch, {}});
    }
    std::vector<CompileOutcome> compiled = compile_kernels(jobs);
    std::vector<std::size_t> still;
    for (std::size_t j = 0; j < pending.size(); ++j) {
      const std::size_t i = pending[j];
      if (!compiled[j].kernel) {
        out[i].error = compiled[j].error;
        continue;
      }
      const CompileReport& report = compiled[j].kernel->report;
      spent[i] += report.compile_ms;
      const bool spills = report.spill_store_bytes + report.spill_load_bytes > 0;
      if (spills && round + 1 < candidates[i].size()) {
        still.push_back(i);
        continue;
      }
      out[i].kernel = BuiltKernel{candidates[i][round], std::move(*compiled[j].kernel), spent[i]};
    }
    pending = std::move(still);
  }
  return out;
}

}  // namespace attnjit
