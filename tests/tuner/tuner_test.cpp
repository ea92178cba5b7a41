// The tuner's loop and bookkeeping against a fake measuring process (no GPU):
// real NVRTC compiles, faults, hangs and wrong results isolated, the best
// config stored where the engine looks for it.
#include "tuner/tuner.hpp"

#include "runtime/cuda_driver.hpp"
#include "runtime/shape_bucket.hpp"
#include "runtime/toolchain.hpp"
#include <attnjit/language.hpp>

#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

namespace attnjit::tuner {
namespace {

Variant dense() {
  return parse_variants("variant dense { dtype bf16; head_dim 64; }", "d.attn").variants.at(0);
}

const AttentionShape kShape{1, 2, 2, 256, 256};

std::shared_ptr<db::KernelStore> shared_store() {
  // Shared by the tests of this file (each runs in its own process): the
  // second test finds the first one's kernels instead of compiling them again.
  std::filesystem::create_directories(ATTNJIT_TEST_CACHE_DIR);
  return std::make_shared<db::KernelStore>(std::filesystem::path(ATTNJIT_TEST_CACHE_DIR) /
                                           "attnjit.db");
}

std::filesystem::path scratch() {
  return std::filesystem::temp_directory_path() /
         ("attnjit_tuner_test_" + std::to_string(::getpid()));
}

const CandidateResult* find(const TuneResult& result, int bm, int bn, int warps) {
  const std::string config = fmt::format("bm={},bn={},warps={}", bm, bn, warps);
  for (const CandidateResult& candidate : result.candidates) {
    if (candidate.config == config) return &candidate;
  }
  return nullptr;
}

TEST(WorkerProcess, SurvivesCrashesAndHangsOfTheMeasuringProcess) {
  WorkerProcess worker({ATTNJIT_FAKE_WORKER});
  const std::chrono::milliseconds timeout(1000);
  ASSERT_TRUE(worker.setup({"variant x { dtype bf16; head_dim 64; }", kShape, 1, 8}, timeout).ok);
  const std::filesystem::path cubin = scratch() / "x.cubin";
  std::filesystem::create_directories(cubin.parent_path());
  std::ofstream(cubin) << "cubin";

  MeasureReply reply = worker.measure(
      {"bm=128,bn=64,warps=4", cubin, "f", 128, 0, 128, 64, false, 1, false, false, 0, 0, 1, 5},
      timeout);
  EXPECT_TRUE(reply.ok) << reply.error;
  EXPECT_DOUBLE_EQ(reply.median_ms, 1.0);

  reply = worker.measure(
      {"bm=64,bn=32,warps=8", cubin, "f", 256, 0, 64, 64, false, 1, false, false, 0, 0, 1, 5},
      timeout);
  EXPECT_FALSE(reply.ok);
  EXPECT_NE(reply.error.find("killed by signal 6"), std::string::npos) << reply.error;

  reply = worker.measure(
      {"bm=192,bn=64,warps=4", cubin, "f", 128, 0, 192, 64, false, 1, false, false, 0, 0, 1, 5},
      timeout);
  EXPECT_FALSE(reply.ok);
  EXPECT_NE(reply.error.find("took over 1.0 s and was killed"), std::string::npos) << reply.error;

  reply = worker.measure(
      {"bm=128,bn=128,warps=8", cubin, "f", 256, 0, 128, 64, false, 1, false, false, 0, 0, 1, 5},
      timeout);
  EXPECT_FALSE(reply.ok);
  EXPECT_NE(reply.error.find("wrong output"), std::string::npos) << reply.error;

  reply = worker.measure(
      {"bm=64,bn=64,warps=4", cubin, "f", 128, 0, 64, 64, false, 1, false, false, 0, 0, 1, 5},
      timeout);
  EXPECT_TRUE(reply.ok) << reply.error;
  EXPECT_EQ(worker.restarts(), 2);
  std::filesystem::remove_all(cubin.parent_path());
}

TEST(WorkerProcess, AMissingProgramIsAnError) {
  WorkerProcess worker({"/nonexistent/attnjit"});
  try {
    const SetupReply reply = worker.setup({"variant x { dtype bf16; head_dim 64; }", kShape, 1, 8},
                                          std::chrono::milliseconds(1000));
    EXPECT_FALSE(reply.ok);
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/attnjit"), std::string::npos);
  }
}

TEST(Tuner, FindsTheFastestCorrectConfigAndStoresIt) {
  WorkerProcess worker({ATTNJIT_FAKE_WORKER});
  const auto store = shared_store();
  std::vector<std::string> warnings;
  Tuner tuner(
      worker, store, [&](const std::string& w) { warnings.push_back(w); }, scratch());
  TuneOptions options;
  options.budget = std::chrono::seconds(600);
  options.measure_timeout = std::chrono::milliseconds(1000);
  std::vector<Progress> seen;
  const Variant variant = dense();
  const TuneResult result =
      tuner.tune(variant, kShape, options, [&](const Progress& p) { seen.push_back(p); });

  EXPECT_EQ(result.gpu, "Fake GPU");
  EXPECT_EQ(result.arch, "sm_80");
  ASSERT_TRUE(result.best.has_value());
  EXPECT_EQ(result.best->config, "bm=128,bn=64,warps=4");
  EXPECT_DOUBLE_EQ(result.best->median_ms, 1.0);
  EXPECT_GT(result.default_ms, 0);
  EXPECT_EQ(result.candidates.front().config, result.default_config);
  // Every planned config is settled one way or another, and isolated failures are named.
  EXPECT_EQ(result.candidates.size(), seen.back().planned);
  for (std::size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i].settled, i + 1);
  if (const CandidateResult* crash = find(result, 128, 32, 8)) {
    EXPECT_EQ(crash->outcome, crash->spill_bytes > 0 ? Outcome::Spills : Outcome::Failed);
  }
  if (const CandidateResult* hang = find(result, 192, 64, 4)) {
    if (hang->outcome == Outcome::Failed) {
      EXPECT_NE(hang->error.find("killed"), std::string::npos);
    }
  }
  if (const CandidateResult* wrong = find(result, 128, 128, 8)) {
    if (wrong->outcome == Outcome::Failed) {
      EXPECT_NE(wrong->error.find("wrong"), std::string::npos);
    }
  }
  for (const CandidateResult& c : result.candidates) {
    if (c.outcome == Outcome::Measured) {
      EXPECT_GE(c.median_ms, 1.0);
    }
  }

  ASSERT_TRUE(result.stored);
  const db::TuningKey key{variant.hash(), "fa2_sm80", "Fake GPU", toolchain_id(),
                          shape_bucket({2, 8, 8, 1000, 1000})};
  const auto record = store->nearest_tuning(key);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->config, "bm=128,bn=64,warps=4");
  EXPECT_DOUBLE_EQ(record->best_ms, 1.0);
  EXPECT_TRUE(warnings.empty());
  std::filesystem::remove_all(scratch());
}

TEST(Tuner, AnExhaustedBudgetStillMeasuresTheDefault) {
  WorkerProcess worker({ATTNJIT_FAKE_WORKER});
  Tuner tuner(
      worker, shared_store(), [](const std::string&) {}, scratch());
  TuneOptions options;
  options.budget = std::chrono::seconds(0);
  const TuneResult result = tuner.tune(dense(), kShape, options, {});
  ASSERT_FALSE(result.candidates.empty());
  EXPECT_EQ(result.candidates.front().outcome, Outcome::Measured);
  EXPECT_GT(result.default_ms, 0);
  for (std::size_t i = 1; i < result.candidates.size(); ++i) {
    EXPECT_NE(result.candidates[i].outcome, Outcome::Measured) << result.candidates[i].config;
  }
  std::filesystem::remove_all(scratch());
}

TEST(Tuner, NoGpuInTheMeasuringProcessIsReportedAsSuch) {
  // The real measuring process, which finds no driver on CI machines.
  if (std::filesystem::exists("/dev/nvidiactl")) GTEST_SKIP() << "a GPU is present";
  WorkerProcess worker({ATTNJIT_CLI, "__measure-worker"});
  Tuner tuner(
      worker, nullptr, [](const std::string&) {}, scratch());
  EXPECT_THROW((void)tuner.tune(dense(), kShape, {}, {}), NoGpuError);
}

}  // namespace
}  // namespace attnjit::tuner
