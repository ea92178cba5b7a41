// The fa3_sm90 (Hopper) family's config: parsing, the rules a config must
// keep, the register split, the defaults, the search space and which family
// the runtime prefers.
#include "codegen/fa3_config.hpp"

#include "codegen/decode_config.hpp"
#include "codegen/fa2_config.hpp"
#include "codegen/fa3_kernel.hpp"
#include "codegen/family.hpp"
#include "tests/language/test_util.hpp"
#include <attnjit/error.hpp>
#include <attnjit/language.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

using testing::parse_one;

Arch arch(std::string_view name) { return parse_arch(name).value(); }

bool mentions(const std::vector<std::string>& violations, std::string_view text) {
  return std::any_of(violations.begin(), violations.end(),
                     [&](const std::string& v) { return v.find(text) != std::string::npos; });
}

TEST(Fa3Config, ParsesItsOwnKeys) {
  const Fa3Config base{128, 128, 2};
  EXPECT_EQ(parse_fa3_config("", base), base);
  EXPECT_EQ(parse_fa3_config("bm=64,stages=3", base), (Fa3Config{64, 128, 3}));
  EXPECT_EQ(parse_fa3_config(Fa3Config{192, 80, 3}.to_string(), base), (Fa3Config{192, 80, 3}));
  const Fa3Config persistent = parse_fa3_config("persistent=1", base);
  EXPECT_TRUE(persistent.persistent);
  EXPECT_EQ(persistent.to_string(), "bm=128,bn=128,stages=2,persistent=1");
  EXPECT_EQ(parse_fa3_config(persistent.to_string(), base), persistent);
  EXPECT_THROW(parse_fa3_config("persistent=2", base), SpecError);
  EXPECT_THROW(parse_fa3_config("warps=4", base), SpecError);
  EXPECT_THROW(parse_fa3_config("bm=x", base), SpecError);
}

TEST(Fa3Config, RulesNameWhatIsWrong) {
  const Variant d128 = parse_one("variant a { dtype bf16; head_dim 128; mask causal; }");
  EXPECT_TRUE(fa3_violations(d128, {128, 128, 2}, arch("sm_90a")).empty());
  EXPECT_TRUE(mentions(fa3_violations(d128, {128, 128, 2}, arch("sm_90")), "needs sm_90a"));
  EXPECT_TRUE(mentions(fa3_violations(d128, {128, 128, 2}, arch("sm_80")), "needs sm_90a"));
  EXPECT_TRUE(mentions(fa3_violations(d128, {96, 128, 2}, arch("sm_90a")), "bm=96"));
  EXPECT_TRUE(mentions(fa3_violations(d128, {128, 72, 2}, arch("sm_90a")), "bn=72"));
  EXPECT_TRUE(mentions(fa3_violations(d128, {128, 128, 5}, arch("sm_90a")), "stages=5"));
  EXPECT_TRUE(mentions(fa3_violations(d128, {128, 128, 1}, arch("sm_90a")), "stages=1"));
  EXPECT_TRUE(mentions(fa3_violations(d128, {192, 256, 4}, arch("sm_90a")), "shared memory"));
  // A persistent CTA holds two Q tiles: three stages of 128 keys no longer fit.
  EXPECT_TRUE(fa3_violations(d128, {128, 128, 3}, arch("sm_90a")).empty());
  EXPECT_TRUE(
      mentions(fa3_violations(d128, {128, 128, 3, 0, true}, arch("sm_90a")), "shared memory"));
  EXPECT_TRUE(fa3_violations(d128, {128, 128, 2, 0, true}, arch("sm_90a")).empty());
  EXPECT_TRUE(fa3_kernel(d128, {128, 128, 2, 0, true}, arch("sm_90a")).persistent);
  EXPECT_FALSE(fa3_kernel(d128, {128, 128, 2}, arch("sm_90a")).persistent);
  const Variant d96 = parse_one("variant b { dtype fp16; head_dim 96; }");
  EXPECT_TRUE(mentions(fa3_violations(d96, {128, 128, 2}, arch("sm_90a")), "multiples of 64"));
}

// fp8 rows fill whole 128-byte swizzle rows: head_dim and the key tile in 128s.
// exp_fma counts eighths.
TEST(Fa3Config, Fp8NeedsWholeSwizzleRows) {
  const Variant f8 = parse_one("variant c { dtype fp8_e4m3; head_dim 128; }");
  EXPECT_TRUE(fa3_violations(f8, {128, 128, 2}, arch("sm_90a")).empty());
  EXPECT_TRUE(fa3_violations(f8, {128, 256, 2}, arch("sm_90a")).empty());
  EXPECT_TRUE(mentions(fa3_violations(f8, {128, 64, 2}, arch("sm_90a")), "128 or 256 for fp8"));
  EXPECT_TRUE(mentions(fa3_violations(f8, {128, 128, 2, 9}, arch("sm_90a")), "exp_fma=9"));
  EXPECT_EQ(parse_fa3_config("exp_fma=2", {}).to_string(), "bm=128,bn=128,stages=2,exp_fma=2");
  EXPECT_EQ(parse_fa3_config("exp_fma=0", {}).to_string(), "bm=128,bn=128,stages=2");
  const Variant d64 = parse_one("variant d { dtype fp8_e5m2; head_dim 64; }");
  EXPECT_TRUE(mentions(fa3_violations(d64, {128, 128, 2}, arch("sm_90a")), "head_dim 128 or 256"));
  const Variant hashed =
      parse_one("variant e { dtype fp8_e4m3; head_dim 128; sparsity hash(buckets=4); }");
  EXPECT_TRUE(mentions(fa3_violations(hashed, {128, 128, 2}, arch("sm_90a")), "hash sparsity"));
  // Half the bytes of a 16-bit tile: the default pipeline is as deep as shared
  // memory allows, every exponential on the multi-function unit; every
  // search candidate keeps whole swizzle rows.
  EXPECT_EQ(fa3_default_candidates(f8, arch("sm_90a")).front(), (Fa3Config{128, 128, 4}));
  for (const Fa3Config& config : fa3_search_space(f8, arch("sm_90a"))) {
    EXPECT_EQ(config.block_n % 128, 0) << config.to_string();
  }
}

// quant sage reads 8-bit tiles as fp8 inputs do, and only this family
// multiplies int8 codes; the runtime takes it at every query length.
TEST(Fa3Config, QuantSageRunsHereOnly) {
  const Variant sage = parse_one("variant s { dtype bf16; head_dim 128; quant sage; }");
  EXPECT_TRUE(fa3_violations(sage, {128, 128, 2}, arch("sm_90a")).empty());
  EXPECT_TRUE(
      mentions(fa3_violations(sage, {128, 64, 2}, arch("sm_90a")), "128 or 256 for quant sage"));
  const Variant d64 = parse_one("variant d { dtype fp16; head_dim 64; quant sage; }");
  EXPECT_TRUE(mentions(fa3_violations(d64, {128, 128, 2}, arch("sm_90a")), "head_dim 128 or 256"));
  EXPECT_TRUE(mentions(fa2_violations(sage, {128, 64, 4}, arch("sm_90a")),
                       "fa2_sm80 has no quantised products"));
  EXPECT_TRUE(mentions(decode_violations(sage, DecodeConfig{}, arch("sm_90a")),
                       "decode has no quantised products"));
  EXPECT_EQ(preferred_family(sage, arch("sm_90a"), 1), Family::Fa3Sm90);
  EXPECT_EQ(fa3_default_candidates(sage, arch("sm_90a")).front(), (Fa3Config{128, 128, 4}));
  // 16-bit V is read as given: key tiles of whole K factor blocks suffice.
  const Variant pv16 = parse_one("variant p { dtype bf16; head_dim 128; quant sage(pv=bf16); }");
  EXPECT_TRUE(fa3_violations(pv16, {128, 64, 2}, arch("sm_90a")).empty());
  EXPECT_TRUE(mentions(fa3_violations(pv16, {128, 96, 2}, arch("sm_90a")),
                       "multiple of 64 for quant sage"));
  EXPECT_EQ(preferred_family(pv16, arch("sm_90a"), 1), Family::Fa3Sm90);
}

TEST(Fa3Config, RegisterSplitFitsTheFile) {
  const Variant plain = parse_one("variant a { dtype bf16; head_dim 128; mask causal; }");
  const Variant heavy =
      parse_one("variant b { dtype bf16; head_dim 128; param c: i32 = 64; mask q / c == k / c; }");
  for (const Variant* variant : {&plain, &heavy}) {
    for (const int bm : {64, 128, 192}) {
      for (const bool persistent : {false, true}) {
        const Fa3Config config{bm, 128, 2, 0, persistent};
        const RegisterSplit split = fa3_register_split(*variant, config);
        if (config.consumers() == 1) {
          EXPECT_EQ(split.producer, 0);
          continue;
        }
        EXPECT_EQ(split.producer % 8, 0);
        EXPECT_EQ(split.consumer % 8, 0);
        EXPECT_LE(split.consumer, 240);
        EXPECT_LE(128 * split.producer + 128 * config.consumers() * split.consumer,
                  config.threads() * fa3_launch_registers(config));
      }
    }
  }
  // FlashAttention-3's splits, which use up the launch allocation exactly.
  EXPECT_EQ(fa3_register_split(plain, {128, 128, 2}), (RegisterSplit{24, 240}));
  EXPECT_EQ(fa3_register_split(plain, {192, 128, 2}), (RegisterSplit{24, 160}));
  // A persistent producer walks item after item: more than the minimum too.
  EXPECT_EQ(fa3_register_split(plain, {128, 128, 2, 0, true}), (RegisterSplit{48, 224}));
  // A classifier with divisions gets the producer more than the minimum.
  EXPECT_GT(fa3_register_split(heavy, {128, 128, 2}).producer,
            fa3_register_split(plain, {128, 128, 2}).producer);
}

TEST(Fa3Config, DefaultsTakeTheDeepestPipelineThatFits) {
  const auto first = [](const char* text) {
    return fa3_default_candidates(parse_one(text), arch("sm_90a")).front();
  };
  EXPECT_EQ(first("variant a { dtype bf16; head_dim 64; }"), (Fa3Config{192, 128, 4}));
  EXPECT_EQ(first("variant b { dtype bf16; head_dim 128; mask causal; }"),
            (Fa3Config{128, 128, 3}));
  EXPECT_EQ(first("variant c { dtype bf16; head_dim 256; }"), (Fa3Config{128, 64, 2}));
  EXPECT_EQ(first("variant d { dtype bf16; head_dim 64; tensor bias: f32[kv_len]; "
                  "score score + bias[k]; }"),
            (Fa3Config{128, 128, 4}));
}

TEST(Fa3Config, DefaultsAndSearchSpaceAreValid) {
  for (const char* text : {"variant a { dtype bf16; head_dim 64; }",
                           "variant b { dtype fp16; head_dim 128; mask causal; }",
                           "variant c { dtype bf16; head_dim 256; mask causal; }",
                           "variant d { dtype bf16; head_dim 192; head_dim_v 128; }"}) {
    const Variant variant = parse_one(text);
    for (const Fa3Config& config : fa3_default_candidates(variant, arch("sm_90a"))) {
      EXPECT_TRUE(fa3_violations(variant, config, arch("sm_90a")).empty()) << config.to_string();
    }
    const std::vector<Fa3Config> space = fa3_search_space(variant, arch("sm_90a"));
    EXPECT_FALSE(space.empty()) << variant.name();
    for (const Fa3Config& config : space) {
      EXPECT_TRUE(fa3_violations(variant, config, arch("sm_90a")).empty()) << config.to_string();
    }
    const GeneratedKernel kernel = fa3_kernel(
        variant, fa3_default_candidates(variant, arch("sm_90a")).front(), arch("sm_90a"));
    EXPECT_TRUE(kernel.tma_maps);
    EXPECT_EQ(kernel.threads % 128, 0);
    EXPECT_LE(kernel.smem_bytes, arch("sm_90a").max_smem_per_block());
  }
}

TEST(Fa3Config, PreferredOnlyWhereItApplies) {
  const Variant d128 = parse_one("variant a { dtype bf16; head_dim 128; mask causal; }");
  const Variant d96 = parse_one("variant b { dtype bf16; head_dim 96; }");
  EXPECT_EQ(preferred_family(d128, arch("sm_90a")), Family::Fa3Sm90);
  EXPECT_EQ(preferred_family(d128, arch("sm_90")), Family::Fa2Sm80);
  EXPECT_EQ(preferred_family(d128, arch("sm_80")), Family::Fa2Sm80);
  EXPECT_EQ(preferred_family(d96, arch("sm_90a")), Family::Fa2Sm80);
  EXPECT_THROW(generate(d96, Family::Fa3Sm90, "", arch("sm_90a")), SpecError);
}

}  // namespace
}  // namespace attnjit::codegen
