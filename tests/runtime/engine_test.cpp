// The engine's choice of kernel family. Needs a GPU (the engine owns a
// context); skipped without one.
#include "runtime/cuda_driver.hpp"
#include <attnjit/engine.hpp>
#include <attnjit/language.hpp>

#include <optional>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

std::optional<Engine> engine_or_skip() {
  EngineOptions options;
  options.use_cache = false;
  try {
    return Engine(options);
  } catch (const NoGpuError&) {
    return std::nullopt;
  }
}

TEST(Engine, AnExplicitConfigIsOfTheFamilyTheShapeTakes) {
  std::optional<Engine> engine = engine_or_skip();
  if (!engine) GTEST_SKIP() << "no GPU here: the GPU tests run on the device (scripts/gpu.sh)";
  ParseResult parsed =
      parse_variants("variant c { dtype bf16; head_dim 128; mask causal; }", "test.attn");
  ASSERT_EQ(parsed.variants.size(), 1U);
  const Variant& variant = parsed.variants.front();
  AttentionShape decode{1, 32, 8, 1, 4096};
  const Kernel few_rows = engine->kernel(variant, decode, "rows=16,bn=64,warps=4,stages=2,split=0");
  EXPECT_EQ(few_rows.family(), "decode");
  EXPECT_EQ(few_rows.config(), "rows=16,bn=64,warps=4,stages=2,split=0");
  AttentionShape prefill{1, 8, 8, 1024, 1024};
  EXPECT_NE(engine->kernel(variant, prefill, "bn=64").family(), "decode");
}

}  // namespace
}  // namespace attnjit
