// The fa2_sm80 family's config: parsing, the rules a config must keep, the
// default and the tuner's search space; and target arch names.
#include "codegen/arch.hpp"
#include "codegen/fa2_config.hpp"
#include "codegen/family.hpp"
#include <attnjit/error.hpp>
#include <attnjit/language.hpp>

#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace attnjit::codegen {
namespace {

Variant parse_one(std::string_view text) {
  ParseResult result = parse_variants(text, "test.attn");
  if (!result.ok() || result.variants.size() != 1) throw std::runtime_error("bad test variant");
  return std::move(result.variants.front());
}

const Variant& d128() {
  static const Variant variant =
      parse_one("variant d128 { dtype bf16; head_dim 128; mask causal; }");
  return variant;
}
const Variant& d256() {
  static const Variant variant =
      parse_one("variant d256 { dtype fp16; head_dim 256; mask causal; }");
  return variant;
}
const Variant& fp8() {
  static const Variant variant =
      parse_one("variant f8 { dtype fp8_e4m3; head_dim 128; mask causal; }");
  return variant;
}

Arch arch(std::string_view name) {
  const std::optional<Arch> parsed = parse_arch(name);
  if (!parsed) throw std::runtime_error("bad test arch");
  return *parsed;
}

// The message of the SpecError that `parse` throws for `text`.
std::string parse_error(std::string_view text) {
  try {
    parse_fa2_config(text, {});
  } catch (const SpecError& error) {
    return error.what();
  }
  ADD_FAILURE() << "'" << text << "' was accepted";
  return "";
}

bool mentions(const std::vector<std::string>& violations, std::string_view needle) {
  for (const std::string& v : violations) {
    if (v.find(needle) != std::string::npos) return true;
  }
  return false;
}

std::string joined(const std::vector<std::string>& violations) {
  std::string out;
  for (const std::string& v : violations) out += v + "\n";
  return out;
}

TEST(Fa2ConfigParse, OverridesKeyByKey) {
  const Fa2Config base{128, 64, 8};
  EXPECT_EQ(parse_fa2_config("", base), base);
  EXPECT_EQ(parse_fa2_config("bm=64", base), (Fa2Config{64, 64, 8}));
  EXPECT_EQ(parse_fa2_config("bn=32,warps=4", base), (Fa2Config{128, 32, 4}));
  EXPECT_EQ(parse_fa2_config("warps=4,bm=64,bn=128", base), (Fa2Config{64, 128, 4}));
  EXPECT_EQ(parse_fa2_config("bm=64,bm=192", base), (Fa2Config{192, 64, 8}));  // last wins
}

TEST(Fa2ConfigParse, RoundTripsThroughToString) {
  const Fa2Config config{192, 128, 4};
  EXPECT_EQ(config.to_string(), "bm=192,bn=128,warps=4");
  EXPECT_EQ(parse_fa2_config(config.to_string(), {}), config);
}

TEST(Fa2ConfigParse, ErrorsNameTheKey) {
  const std::string unknown = parse_error("bm=64,tile=3");
  EXPECT_NE(unknown.find("'tile'"), std::string::npos) << unknown;
  EXPECT_NE(unknown.find("bm, bn, warps"), std::string::npos) << unknown;

  const std::string not_int = parse_error("bn=sixty");
  EXPECT_NE(not_int.find("'bn'"), std::string::npos) << not_int;
  EXPECT_NE(not_int.find("'sixty'"), std::string::npos) << not_int;

  for (const std::string_view text : {"warps=4x", "warps=", "warps=1e2", "warps= 4"}) {
    const std::string message = parse_error(text);
    EXPECT_NE(message.find("'warps'"), std::string::npos) << text << ": " << message;
  }

  const std::string no_equals = parse_error("bm=64,bn");
  EXPECT_NE(no_equals.find("'bn'"), std::string::npos) << no_equals;
  EXPECT_NE(no_equals.find("KEY=VALUE"), std::string::npos) << no_equals;
}

TEST(Fa2ConfigParse, ThrowsThroughGenerate) {
  try {
    generate(d128(), Family::Fa2Sm80, "bm=64,frob=1", arch("sm_80"));
    ADD_FAILURE() << "accepted";
  } catch (const SpecError& error) {
    EXPECT_NE(std::string(error.what()).find("'frob'"), std::string::npos) << error.what();
  }
}

TEST(Fa2ConfigRules, GoodConfigsHaveNoViolations) {
  for (const Fa2Config config :
       {Fa2Config{128, 64, 8}, Fa2Config{64, 32, 4}, Fa2Config{192, 64, 4}, Fa2Config{16, 16, 1}}) {
    EXPECT_TRUE(fa2_violations(d128(), config, arch("sm_80")).empty())
        << config.to_string() << ":\n"
        << joined(fa2_violations(d128(), config, arch("sm_80")));
  }
}

TEST(Fa2ConfigRules, BadBlockM) {
  const Arch sm80 = arch("sm_80");
  for (const Fa2Config config : {Fa2Config{96, 64, 4}, Fa2Config{64, 64, 8}, Fa2Config{8, 64, 1},
                                 Fa2Config{0, 64, 4}, Fa2Config{-64, 64, 4}}) {
    const auto violations = fa2_violations(d128(), config, sm80);
    EXPECT_TRUE(mentions(violations, fmt::format("bm={} must be a multiple", config.block_m)))
        << config.to_string() << ":\n"
        << joined(violations);
  }
  const auto over = fa2_violations(d128(), {512, 64, 8}, sm80);
  EXPECT_TRUE(mentions(over, "bm=512 is over 256")) << joined(over);
}

TEST(Fa2ConfigRules, BadBlockN) {
  for (const int bn : {0, 8, 24, 272, -16}) {
    const auto violations = fa2_violations(d128(), {128, bn, 8}, arch("sm_80"));
    EXPECT_TRUE(mentions(violations, fmt::format("bn={} must be a multiple of 16", bn)))
        << bn << ":\n"
        << joined(violations);
  }
}

TEST(Fa2ConfigRules, BadWarps) {
  for (const int warps : {0, -1, 17, 32}) {
    const auto violations = fa2_violations(d128(), {128, 64, warps}, arch("sm_80"));
    EXPECT_TRUE(mentions(violations, "warps must be in 1..16")) << warps << ":\n"
                                                                << joined(violations);
  }
}

TEST(Fa2ConfigRules, SharedMemoryDependsOnArch) {
  // A config of head_dim 256 that fits sm_80's 163 KiB but not sm_86's 99 KiB
  // (128 x 64 tiles, while K and V are single-buffered).
  std::optional<Fa2Config> between;
  for (const int bm : {128, 64, 192, 256}) {
    for (const int bn : {64, 96, 48, 32, 128}) {
      const int smem = fa2_smem_bytes(d256(), {bm, bn, 4});
      if (!between && smem > 99 * 1024 && smem <= 163 * 1024) between = Fa2Config{bm, bn, 4};
    }
  }
  ASSERT_TRUE(between);
  const Fa2Config config = *between;
  const int smem = fa2_smem_bytes(d256(), config);
  EXPECT_TRUE(fa2_violations(d256(), config, arch("sm_80")).empty()) << config.to_string();
  EXPECT_TRUE(fa2_violations(d256(), config, arch("sm_90a")).empty()) << config.to_string();
  for (const std::string_view name : {"sm_86", "sm_89", "sm_120"}) {
    const auto violations = fa2_violations(d256(), config, arch(name));
    ASSERT_EQ(violations.size(), 1U) << name << " " << config.to_string() << ":\n"
                                     << joined(violations);
    EXPECT_NE(violations[0].find(fmt::format("{} bytes of shared memory", smem)), std::string::npos)
        << violations[0];
    EXPECT_NE(violations[0].find(std::string(name) + " allows 101376"), std::string::npos)
        << violations[0];
  }
  // Shared memory grows with the tiles and the head size.
  EXPECT_LT(fa2_smem_bytes(d256(), {64, 64, 4}), fa2_smem_bytes(d256(), {128, 64, 4}));
  EXPECT_LT(fa2_smem_bytes(d256(), {64, 32, 4}), fa2_smem_bytes(d256(), {64, 64, 4}));
  EXPECT_LT(fa2_smem_bytes(d128(), {64, 64, 4}), fa2_smem_bytes(d256(), {64, 64, 4}));
}

TEST(Fa2ConfigRules, Fp8IsRejected) {
  const auto violations = fa2_violations(fp8(), {128, 64, 8}, arch("sm_90a"));
  EXPECT_TRUE(mentions(violations, "fp16 or bf16 inputs, not fp8_e4m3")) << joined(violations);
  EXPECT_THROW(generate(fp8(), Family::Fa2Sm80, "", arch("sm_90a")), SpecError);
  EXPECT_TRUE(fa2_search_space(fp8(), arch("sm_90a")).empty());
}

TEST(Fa2ConfigRules, HeadDimMustBeMultipleOf16) {
  const Variant odd = parse_one("variant odd { dtype bf16; head_dim 72; head_dim_v 64; }");
  EXPECT_TRUE(mentions(fa2_violations(odd, {64, 64, 4}, arch("sm_80")), "multiples of 16"));
}

TEST(Fa2ConfigRules, ViolationsReachTheGenerator) {
  try {
    generate(d256(), Family::Fa2Sm80, "bm=128,bn=64,warps=8", arch("sm_86"));
    ADD_FAILURE() << "accepted";
  } catch (const SpecError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("bm=128,bn=64,warps=8"), std::string::npos) << message;
    EXPECT_NE(message.find("'d256'"), std::string::npos) << message;
    EXPECT_NE(message.find("sm_86"), std::string::npos) << message;
  }
}

TEST(Fa2ConfigDefaults, DefaultIsValidEverywhere) {
  const Variant d192 =
      parse_one("variant d192 { dtype bf16; head_dim 192; head_dim_v 128; mask causal; }");
  for (const Variant* variant : {&d128(), &d256(), &d192}) {
    for (const std::string_view name : {"sm_80", "sm_86", "sm_89", "sm_90", "sm_90a", "sm_120"}) {
      const Fa2Config config = fa2_default_config(*variant, arch(name));
      EXPECT_TRUE(fa2_violations(*variant, config, arch(name)).empty())
          << variant->name() << " on " << name << ": " << config.to_string();
      const Generated generated = generate(*variant, Family::Fa2Sm80, "", arch(name));
      EXPECT_EQ(generated.config, config.to_string());
      EXPECT_EQ(generated.kernel.threads, 32 * config.warps);
      EXPECT_EQ(generated.kernel.block_m, config.block_m);
      EXPECT_EQ(generated.kernel.smem_bytes, fa2_smem_bytes(*variant, config));
    }
  }
}

TEST(Fa2ConfigSearch, SpaceIsNonEmptyAndValid) {
  for (const Variant* variant : {&d128(), &d256()}) {
    for (const std::string_view name : {"sm_80", "sm_86", "sm_90a"}) {
      const std::vector<Fa2Config> space = fa2_search_space(*variant, arch(name));
      EXPECT_FALSE(space.empty()) << variant->name() << " on " << name;
      for (const Fa2Config& config : space) {
        EXPECT_TRUE(fa2_violations(*variant, config, arch(name)).empty())
            << variant->name() << " on " << name << ": " << config.to_string();
      }
      // The default is among the configs the tuner may try, or at least valid.
      for (std::size_t i = 0; i < space.size(); ++i) {
        for (std::size_t j = i + 1; j < space.size(); ++j) EXPECT_NE(space[i], space[j]);
      }
    }
  }
  // More shared memory admits more configs.
  EXPECT_GT(fa2_search_space(d256(), arch("sm_90a")).size(),
            fa2_search_space(d256(), arch("sm_86")).size());
}

TEST(Arch, ParsesRealArchitectures) {
  const std::optional<Arch> sm80 = parse_arch("sm_80");
  ASSERT_TRUE(sm80);
  EXPECT_EQ(sm80->major, 8);
  EXPECT_EQ(sm80->minor, 0);
  EXPECT_FALSE(sm80->arch_specific);
  EXPECT_EQ(sm80->sm(), 80);
  EXPECT_EQ(sm80->name(), "sm_80");

  const std::optional<Arch> sm90a = parse_arch("sm_90a");
  ASSERT_TRUE(sm90a);
  EXPECT_EQ(sm90a->major, 9);
  EXPECT_EQ(sm90a->minor, 0);
  EXPECT_TRUE(sm90a->arch_specific);
  EXPECT_EQ(sm90a->name(), "sm_90a");

  for (const std::string_view name : {"sm_86", "sm_89", "sm_90", "sm_100a", "sm_120"}) {
    const std::optional<Arch> parsed = parse_arch(name);
    ASSERT_TRUE(parsed) << name;
    EXPECT_EQ(parsed->name(), name);
  }
}

TEST(Arch, RejectsOthers) {
  for (const std::string_view name :
       {"sm_70", "sm_75", "compute_80", "sm_9x", "sm_", "", "sm80", "SM_80", "sm_80aa", "sm_a",
        "sm_-80", "sm_800", "sm_130", "sm_80 ", " sm_80", "lto_80"}) {
    EXPECT_FALSE(parse_arch(name)) << "'" << name << "'";
  }
}

TEST(Arch, SharedMemoryLimits) {
  EXPECT_EQ(arch("sm_80").max_smem_per_block(), 163 * 1024);
  EXPECT_EQ(arch("sm_86").max_smem_per_block(), 99 * 1024);
  EXPECT_EQ(arch("sm_89").max_smem_per_block(), 99 * 1024);
  EXPECT_EQ(arch("sm_90a").max_smem_per_block(), 227 * 1024);
  EXPECT_EQ(arch("sm_90").max_smem_per_block(), 227 * 1024);
}

}  // namespace
}  // namespace attnjit::codegen
