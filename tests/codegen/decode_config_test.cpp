// The decode family's config space, its choice by the runtime, and what its
// generated source holds.
#include "codegen/decode_config.hpp"

#include "codegen/decode_kernel.hpp"
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

TEST(DecodeConfig, ParsesItsOwnKeys) {
  const DecodeConfig base;
  EXPECT_EQ(parse_decode_config("", base), base);
  EXPECT_EQ(parse_decode_config("rows=32,stages=4,split=2", base), (DecodeConfig{32, 64, 4, 4, 2}));
  const DecodeConfig other{64, 128, 8, 2, 1, true};
  EXPECT_EQ(other.to_string(), "rows=64,bn=128,warps=8,stages=2,split=1,tma=1");
  EXPECT_EQ(parse_decode_config(other.to_string(), base), other);
  EXPECT_EQ(parse_decode_config("tma=0", other).tma, false);
  EXPECT_THROW(parse_decode_config("tma=2", base), SpecError);
  EXPECT_THROW(parse_decode_config("bm=64", base), SpecError);
  EXPECT_THROW(parse_decode_config("rows=x", base), SpecError);
}

TEST(DecodeConfig, RulesNameWhatIsWrong) {
  const Variant d128 = parse_one("variant a { dtype bf16; head_dim 128; mask causal; }");
  const Arch sm90 = arch("sm_90a");
  EXPECT_TRUE(decode_violations(d128, DecodeConfig{}, sm90).empty());
  EXPECT_TRUE(mentions(decode_violations(d128, {24, 64, 4, 3, 0}, sm90), "rows=24"));
  EXPECT_TRUE(mentions(decode_violations(d128, {16, 48, 4, 3, 0}, sm90), "bn=48"));
  EXPECT_TRUE(mentions(decode_violations(d128, {16, 64, 4, 1, 0}, sm90), "stages"));
  EXPECT_TRUE(mentions(decode_violations(d128, {16, 256, 8, 8, 0}, sm90), "shared memory"));
  const Variant fp8 = parse_one("variant a { dtype fp8_e4m3; head_dim 128; }");
  EXPECT_TRUE(mentions(decode_violations(fp8, DecodeConfig{}, sm90), "fp16 or bf16"));
}

// TMA copies whole 128-byte box rows of a contiguous cache, on sm_90 only.
TEST(DecodeConfig, TmaNeedsHopperAContiguousCacheAndWholeBoxes) {
  const DecodeConfig tma{16, 128, 4, 3, 0, true};
  const Variant d128 = parse_one("variant a { dtype bf16; head_dim 128; mask causal; }");
  EXPECT_TRUE(decode_violations(d128, tma, arch("sm_90a")).empty());
  EXPECT_TRUE(decode_violations(d128, tma, arch("sm_90")).empty());
  EXPECT_TRUE(mentions(decode_violations(d128, tma, arch("sm_80")), "sm_90"));
  const Variant paged = parse_one("variant a { dtype bf16; head_dim 128; kv paged(16); }");
  EXPECT_TRUE(mentions(decode_violations(paged, tma, arch("sm_90a")), "contiguous"));
  const Variant d96 = parse_one("variant a { dtype bf16; head_dim 96; }");
  EXPECT_TRUE(mentions(decode_violations(d96, tma, arch("sm_90a")), "multiples of 64"));
  // Swizzled stages, unpadded, behind 1024 bytes of slack to align them.
  EXPECT_EQ(decode_smem_bytes(d128, tma), 1024 + 2 * 16 * 136 + 2 * 3 * 128 * 256);
}

TEST(DecodeConfig, DefaultsAndSearchSpaceAreValid) {
  for (const char* text : {"variant a { dtype bf16; head_dim 64; }",
                           "variant a { dtype fp16; head_dim 256; mask causal; }",
                           "variant a { dtype bf16; head_dim 192; head_dim_v 128; }"}) {
    const Variant variant = parse_one(text);
    for (const std::string_view name : {"sm_80", "sm_86", "sm_90a"}) {
      const Arch target = arch(name);
      for (const DecodeConfig& config : decode_default_candidates(variant, target)) {
        EXPECT_TRUE(decode_violations(variant, config, target).empty()) << config.to_string();
      }
      const std::vector<DecodeConfig> space = decode_search_space(variant, target);
      EXPECT_FALSE(space.empty()) << name;
      for (const DecodeConfig& config : space) {
        EXPECT_TRUE(decode_violations(variant, config, target).empty()) << config.to_string();
      }
    }
  }
}

// A contiguous cache streams 128-key tiles where the shared memory holds three
// stages; a paged one keeps two CTAs an SM to hide its page-table lookups.
TEST(DecodeConfig, DefaultTileFollowsTheCacheAndTheSharedMemory) {
  const Variant contiguous = parse_one("variant a { dtype bf16; head_dim 128; mask causal; }");
  const Variant paged =
      parse_one("variant a { dtype bf16; head_dim 128; kv paged(16); mask causal; }");
  EXPECT_EQ(decode_default_candidates(contiguous, arch("sm_90a")).front().block_n, 128);
  EXPECT_TRUE(decode_default_candidates(contiguous, arch("sm_90a")).front().tma);
  EXPECT_EQ(decode_default_candidates(contiguous, arch("sm_80")).front().block_n, 64);
  EXPECT_FALSE(decode_default_candidates(contiguous, arch("sm_80")).front().tma);
  for (const DecodeConfig& config : decode_default_candidates(paged, arch("sm_90a"))) {
    EXPECT_LE(config.block_n, 64) << config.to_string();
    EXPECT_FALSE(config.tma) << config.to_string();
  }
}

TEST(DecodeFamily, TakesFewQueryRowsAndEveryPagedVariant) {
  const Variant d128 = parse_one("variant a { dtype bf16; head_dim 128; mask causal; }");
  const Variant paged =
      parse_one("variant a { dtype bf16; head_dim 128; kv paged(16); mask causal; }");
  const Arch sm90 = arch("sm_90a");
  EXPECT_EQ(preferred_family(d128, sm90, 1), Family::Decode);
  EXPECT_EQ(preferred_family(d128, sm90, kDecodeMaxQueryRows), Family::Decode);
  EXPECT_EQ(preferred_family(d128, sm90, kDecodeMaxQueryRows + 1), Family::Fa3Sm90);
  EXPECT_EQ(preferred_family(paged, sm90), Family::Decode);
  EXPECT_EQ(preferred_family(paged, sm90, 4096), Family::Decode);
  EXPECT_EQ(parse_family("decode"), Family::Decode);
  EXPECT_THROW(generate(paged, Family::Fa2Sm80, "", sm90), SpecError);
  EXPECT_THROW(generate(paged, Family::Fa3Sm90, "", sm90), SpecError);
}

TEST(DecodeKernel, HoldsItsThreeEntriesAndThePageSize) {
  const Variant paged =
      parse_one("variant a { dtype bf16; head_dim 128; kv paged(64); mask causal; }");
  const Generated generated = generate(paged, Family::Decode, "rows=32", arch("sm_90a"));
  const GeneratedKernel& kernel = generated.kernel;
  ASSERT_TRUE(kernel.decode.has_value());
  EXPECT_EQ(kernel.decode->page_size, 64);
  EXPECT_EQ(kernel.block_m, 32);
  EXPECT_EQ(kernel.smem_bytes, decode_smem_bytes(paged, DecodeConfig{32, 64, 4, 3, 0}));
  for (const std::string_view entry :
       {std::string_view("attnjit_fwd"), kDecodePlanEntry, kDecodeMergeEntry}) {
    EXPECT_NE(kernel.source.find(entry), std::string::npos) << entry;
  }
  EXPECT_NE(kernel.source.find("kPageSize = 64"), std::string::npos);
  EXPECT_FALSE(kernel.tma_maps);
}

TEST(DecodeKernel, TakesTmaMapsWhenItCopiesByTma) {
  const Variant d128 = parse_one("variant a { dtype bf16; head_dim 128; mask causal; }");
  const GeneratedKernel kernel = generate(d128, Family::Decode, "tma=1", arch("sm_90a")).kernel;
  EXPECT_TRUE(kernel.tma_maps);
  EXPECT_NE(kernel.source.find("const __grid_constant__ aj::FwdMaps maps"), std::string::npos);
  EXPECT_NE(kernel.source.find("kTma = true"), std::string::npos);
}

}  // namespace
}  // namespace attnjit::codegen
