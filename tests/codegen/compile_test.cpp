// Every fp16/bf16 example's default through NVRTC for sm_80 and sm_90a: the
// candidate the runtime keeps compiles, fits the register file and the arch's
// shared memory, and does not spill. No GPU needed; all jobs go to compile_kernels at once, which
// uses every core.
#include "codegen/family.hpp"
#include "runtime/build_kernels.hpp"
#include <attnjit/language.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

std::vector<Variant> examples() {
  std::vector<std::filesystem::path> files;
  for (const auto& file :
       std::filesystem::directory_iterator(std::string(ATTNJIT_SOURCE_DIR) + "/examples")) {
    if (file.path().extension() == ".attn") files.push_back(file.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Variant> out;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    ParseResult result = parse_variants(text.str(), path.string());
    EXPECT_TRUE(result.ok()) << path;
    for (Variant& variant : result.variants) out.push_back(std::move(variant));
  }
  return out;
}

TEST(DefaultConfigs, CompileWithoutSpills) {
  struct Job {
    std::string variant;
    Arch arch;
  };
  std::vector<Job> jobs;
  std::vector<std::vector<Generated>> candidates;
  for (const Variant& variant : examples()) {
    if (variant.dtype() != DType::F16 && variant.dtype() != DType::BF16) continue;
    for (const std::string_view name : {"sm_80", "sm_90a"}) {
      const Arch arch = *parse_arch(name);
      candidates.push_back(generate_candidates(variant, Family::Fa2Sm80, "", arch));
      jobs.push_back({variant.name(), arch});
    }
  }
  ASSERT_GE(jobs.size(), 2U * 11U);
  // One arch per build_kernels call: both halves still use every core.
  for (const std::string_view name : {"sm_80", "sm_90a"}) {
    std::vector<std::vector<Generated>> these;
    std::vector<const Job*> mine;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i].arch.name() != name) continue;
      these.push_back(candidates[i]);
      mine.push_back(&jobs[i]);
    }
    const std::vector<BuildOutcome> outcomes = build_kernels(these, std::string(name));
    ASSERT_EQ(outcomes.size(), mine.size());
    for (std::size_t i = 0; i < mine.size(); ++i) {
      const Job& job = *mine[i];
      SCOPED_TRACE(job.variant + " " + job.arch.name());
      ASSERT_TRUE(outcomes[i].kernel) << outcomes[i].error;
      const CompileReport& report = outcomes[i].kernel->compiled.report;
      SCOPED_TRACE(outcomes[i].kernel->generated.config);
      EXPECT_EQ(report.spill_store_bytes, 0) << report.log;
      EXPECT_EQ(report.spill_load_bytes, 0) << report.log;
      EXPECT_GT(report.registers, 0);
      EXPECT_LE(report.registers, 255);
      EXPECT_LE(report.static_smem_bytes + outcomes[i].kernel->generated.kernel.smem_bytes,
                job.arch.max_smem_per_block());
      EXPECT_FALSE(outcomes[i].kernel->compiled.cubin.empty());
    }
  }
}

}  // namespace
}  // namespace attnjit::codegen
