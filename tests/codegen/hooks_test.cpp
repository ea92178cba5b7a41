// The variant hooks exactly as codegen emits them for NVRTC (gen_hooks.cpp puts
// every example's and every tests/codegen/inputs variant's into one header),
// compiled here by the host compiler over the same prelude, and checked against
// the CPU reference's interpreter: the element mask (whole, and from its row
// and key parts) and the score agree, and the interval tile classifier is
// sound (and exact where it must be).
#include "generated_hooks.hpp"
#include "harness/host_problem.hpp"
#include "reference/inputs_check.hpp"
#include "reference/interpreter.hpp"
#include <attnjit/language.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace attnjit::codegen_test {
namespace {

using attnjit_generated_hooks::kEntries;

constexpr std::size_t kEntryCount = std::size(kEntries);

std::vector<Variant> parse_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  ParseResult result = parse_variants(text.str(), path);
  if (!in || !result.ok()) throw std::runtime_error("cannot parse " + path);
  return std::move(result.variants);
}

const Variant& variant_of(const HookEntry& entry) {
  static std::map<std::string, std::vector<Variant>> files;
  auto found = files.find(entry.file);
  if (found == files.end()) found = files.emplace(entry.file, parse_file(entry.file)).first;
  for (const Variant& variant : found->second) {
    if (variant.name() == entry.variant) return variant;
  }
  throw std::runtime_error(fmt::format("no variant {} in {}", entry.variant, entry.file));
}

// One random problem, seen both ways: bound to the generated hooks and to the
// interpreter. Not movable: the bindings view the inputs.
struct Problem {
  harness::HostProblem host;
  ReferenceInputs inputs;
  reference::Bindings bindings;
  std::unique_ptr<HookInputs> hook_inputs;
  Hooks hooks;

  aj::Index index(std::int64_t b, std::int64_t h, std::int64_t q, std::int64_t k) const {
    const AttentionShape& s = host.shape;
    return {b,       h,       h / (s.heads / s.kv_heads), q, k, s.batch, s.heads, s.kv_heads,
            s.q_len, s.kv_len};
  }
  static reference::Point point(const aj::Index& ix, double score = 0) {
    return {ix.b,     ix.h,        ix.hkv,   ix.q,      ix.k, ix.batch,
            ix.heads, ix.kv_heads, ix.q_len, ix.kv_len, score};
  }
};

AttentionShape random_shape(std::mt19937_64& random) {
  auto draw = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(random);
  };
  AttentionShape shape;
  shape.batch = draw(1, 2);
  shape.kv_heads = draw(1, 2);
  shape.heads = shape.kv_heads * draw(1, 3);
  shape.q_len = draw(1, 70);
  shape.kv_len = draw(0, 3) == 0 ? shape.q_len : draw(1, 70);
  return shape;
}

// Odd seeds draw int params from a range with zero and negatives, bools from a
// fair coin, and int tensors with negative and unsorted values; even seeds
// keep the harness's draws, which make windows and documents bite.
std::unique_ptr<Problem> make_problem(const HookEntry& entry, std::uint64_t seed) {
  const Variant& variant = variant_of(entry);
  std::mt19937_64 random(seed * 7919 + 17);
  harness::ProblemOptions options;
  options.seed = seed;
  const AttentionShape shape = random_shape(random);
  if (seed % 2 == 1) {
    for (const ParamDecl& param : variant.params()) {
      if (param.type == ParamType::I32) {
        options.params[param.name] = std::uniform_int_distribution<std::int32_t>(-3, 8)(random);
      } else if (param.type == ParamType::Bool) {
        options.params[param.name] = std::uniform_int_distribution<int>(0, 1)(random) == 1;
      }
    }
  }
  auto problem = std::make_unique<Problem>();
  problem->host = harness::random_problem(variant, shape, options);
  if (seed % 2 == 1) {
    for (const TensorDecl& decl : variant.tensors()) {
      if (decl.element != ElemType::I32) continue;
      for (double& x : problem->host.tensors.at(decl.name).data) {
        x = static_cast<double>(std::uniform_int_distribution<int>(-9, 9)(random));
      }
    }
  }
  problem->inputs = problem->host.reference_inputs();
  problem->bindings = reference::check_inputs(variant, problem->inputs);
  problem->hook_inputs = std::make_unique<HookInputs>(variant, problem->host);
  problem->hooks = entry.bind(*problem->hook_inputs);
  return problem;
}

constexpr std::uint64_t kSeeds = 24;

std::string describe(const Problem& problem) {
  const AttentionShape& s = problem.host.shape;
  std::string out = fmt::format("shape b={},h={},hkv={},sq={},sk={}", s.batch, s.heads, s.kv_heads,
                                s.q_len, s.kv_len);
  for (const auto& [name, value] : problem.host.params) {
    std::visit([&](auto v) { out += fmt::format(" {}={}", name, v); }, value);
  }
  return out;
}

class GeneratedHooks : public ::testing::TestWithParam<std::size_t> {
 protected:
  const HookEntry& entry() const { return kEntries[GetParam()]; }
  const Variant& variant() const { return variant_of(entry()); }
};

TEST_P(GeneratedHooks, FlagsMatchVariant) {
  EXPECT_EQ(entry().has_mask, !variant().mask().empty());
  const auto* ref = variant().score()->as<ir::BuiltinRef>();
  EXPECT_EQ(entry().identity_score, ref != nullptr && ref->which == ir::Builtin::Score);
}

TEST_P(GeneratedHooks, MaskAgreesWithInterpreter) {
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const auto problem = make_problem(entry(), seed);
    const AttentionShape& s = problem->host.shape;
    std::mt19937_64 random(seed);
    auto draw = [&](std::int64_t n) {
      return std::uniform_int_distribution<std::int64_t>(0, n - 1)(random);
    };
    int failures = 0;
    for (int i = 0; i < 400 && failures < 5; ++i) {
      const aj::Index ix =
          i == 0   ? problem->index(0, 0, 0, 0)
          : i == 1 ? problem->index(s.batch - 1, s.heads - 1, s.q_len - 1, s.kv_len - 1)
                   : problem->index(draw(s.batch), draw(s.heads), draw(s.q_len), draw(s.kv_len));
      const bool expected =
          reference::mask_holds(variant().mask(), Problem::point(ix), problem->bindings);
      if (problem->hooks.mask(ix) != expected) {
        ++failures;
        ADD_FAILURE() << "generated mask is " << !expected << ", interpreter " << expected
                      << " at b=" << ix.b << " h=" << ix.h << " q=" << ix.q << " k=" << ix.k << "; "
                      << describe(*problem);
      }
      if (problem->hooks.mask_of_parts(ix) != expected) {
        ++failures;
        ADD_FAILURE() << "the mask from its row and key parts is " << !expected << ", interpreter "
                      << expected << " at b=" << ix.b << " h=" << ix.h << " q=" << ix.q
                      << " k=" << ix.k << "; " << describe(*problem);
      }
    }
    if (failures > 0) return;
  }
}

// A random tile inside the sizes: half of them where the kernel puts its
// tiles (multiples of a block size, clipped at the end), half anywhere.
aj::Tile random_tile(const Problem& problem, std::mt19937_64& random) {
  const AttentionShape& s = problem.host.shape;
  auto draw = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(random);
  };
  aj::Tile tile{};
  tile.at = problem.index(draw(0, s.batch - 1), draw(0, s.heads - 1), 0, 0);
  if (draw(0, 1) == 0) {
    constexpr std::array<std::int64_t, 4> kBlocks = {8, 16, 32, 64};
    const std::int64_t bm = kBlocks[static_cast<std::size_t>(draw(0, 3))];
    const std::int64_t bn = kBlocks[static_cast<std::size_t>(draw(0, 3))];
    tile.q0 = draw(0, (s.q_len - 1) / bm) * bm;
    tile.k0 = draw(0, (s.kv_len - 1) / bn) * bn;
    tile.q1 = std::min<long long>(tile.q0 + bm, s.q_len) - 1;
    tile.k1 = std::min<long long>(tile.k0 + bn, s.kv_len) - 1;
  } else {
    tile.q0 = draw(0, s.q_len - 1);
    tile.q1 = draw(tile.q0, std::min<long long>(s.q_len - 1, tile.q0 + draw(0, 40)));
    tile.k0 = draw(0, s.kv_len - 1);
    tile.k1 = draw(tile.k0, std::min<long long>(s.kv_len - 1, tile.k0 + draw(0, 40)));
  }
  return tile;
}

struct TileTruth {
  bool any_true = false;
  bool any_false = false;
};

TileTruth brute_force(const Variant& variant, const Problem& problem, const aj::Tile& tile) {
  TileTruth truth;
  for (std::int64_t q = tile.q0; q <= tile.q1; ++q) {
    for (std::int64_t k = tile.k0; k <= tile.k1; ++k) {
      const aj::Index ix = problem.index(tile.at.b, tile.at.h, q, k);
      const bool holds =
          reference::mask_holds(variant.mask(), Problem::point(ix), problem.bindings);
      (holds ? truth.any_true : truth.any_false) = true;
      if (truth.any_true && truth.any_false) return truth;
    }
  }
  return truth;
}

std::string describe(const aj::Tile& tile) {
  return fmt::format("tile b={} h={} q=[{},{}] k=[{},{}]", tile.at.b, tile.at.h, tile.q0, tile.q1,
                     tile.k0, tile.k1);
}

TEST_P(GeneratedHooks, ClassifyIsSound) {
  std::array<int, 3> seen{};
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const auto problem = make_problem(entry(), seed);
    std::mt19937_64 random(seed + 1000);
    for (int i = 0; i < 40; ++i) {
      const aj::Tile tile = random_tile(*problem, random);
      const int verdict = problem->hooks.classify(tile);
      ASSERT_TRUE(verdict == aj::kEmpty || verdict == aj::kFull || verdict == aj::kPartial)
          << verdict;
      ++seen[static_cast<std::size_t>(verdict)];
      if (verdict == aj::kPartial) continue;
      const TileTruth truth = brute_force(variant(), *problem, tile);
      if (verdict == aj::kFull) {
        ASSERT_FALSE(truth.any_false) << "classified kFull, but the mask is false somewhere in "
                                      << describe(tile) << "; " << describe(*problem);
      } else {
        ASSERT_FALSE(truth.any_true) << "classified kEmpty, but the mask is true somewhere in "
                                     << describe(tile) << "; " << describe(*problem);
      }
    }
  }
  if (!entry().has_mask) {
    EXPECT_EQ(seen[aj::kFull], 40 * static_cast<int>(kSeeds));
  }
  RecordProperty("empty_full_partial", fmt::format("{} {} {}", seen[0], seen[1], seen[2]));
}

bool close_enough(float generated, double expected) {
  if (std::isnan(expected)) return std::isnan(generated);
  if (std::isinf(expected)) return generated == expected;
  return std::abs(static_cast<double>(generated) - expected) <=
         2e-5 * std::max(1.0, std::abs(expected));
}

TEST_P(GeneratedHooks, ScoreAgreesWithInterpreter) {
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const auto problem = make_problem(entry(), seed);
    const AttentionShape& s = problem->host.shape;
    std::mt19937_64 random(seed + 2000);
    auto draw = [&](std::int64_t n) {
      return std::uniform_int_distribution<std::int64_t>(0, n - 1)(random);
    };
    std::normal_distribution<float> normal(0.0F, 4.0F);
    constexpr std::array<float, 7> kSpecial = {0.0F, -0.0F, 1.0F, -1.0F, 30.0F, -60.0F, 100.0F};
    int failures = 0;
    for (std::size_t i = 0; i < 200 && failures < 5; ++i) {
      const aj::Index ix =
          problem->index(draw(s.batch), draw(s.heads), draw(s.q_len), draw(s.kv_len));
      const float score = i < kSpecial.size() ? kSpecial[i] : normal(random);
      // Any step the key can have come from, as the families step through keys.
      const int k_step = static_cast<int>(draw(std::min<std::int64_t>(ix.k, 255) + 1));
      const float generated = problem->hooks.score(ix, score, k_step);
      const reference::Value expected =
          reference::evaluate(*variant().score(), Problem::point(ix, score), problem->bindings);
      if (!close_enough(generated, expected.f)) {
        ++failures;
        ADD_FAILURE() << "generated score " << generated << ", interpreter " << expected.f
                      << " for score " << score << " at b=" << ix.b << " h=" << ix.h
                      << " q=" << ix.q << " k=" << ix.k << "; " << describe(*problem);
      }
    }
    if (failures > 0) return;
  }
}

// What a score `score + B` adds, times log2(e), as the kernels compute it
// (x * scale * log2 e + bias_log2): B is the score at a logit of 0.
TEST_P(GeneratedHooks, AdditiveBiasAgreesWithInterpreter) {
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const auto problem = make_problem(entry(), seed);
    if (!problem->hooks.bias_log2) return;
    const AttentionShape& s = problem->host.shape;
    std::mt19937_64 random(seed + 3000);
    auto draw = [&](std::int64_t n) {
      return std::uniform_int_distribution<std::int64_t>(0, n - 1)(random);
    };
    int failures = 0;
    for (std::size_t i = 0; i < 200 && failures < 5; ++i) {
      const aj::Index ix =
          problem->index(draw(s.batch), draw(s.heads), draw(s.q_len), draw(s.kv_len));
      const int k_step = static_cast<int>(draw(std::min<std::int64_t>(ix.k, 255) + 1));
      const float generated = problem->hooks.bias_log2(ix, k_step);
      const reference::Value bias =
          reference::evaluate(*variant().score(), Problem::point(ix, 0.0), problem->bindings);
      const double expected = bias.f * 1.4426950408889634;
      if (!close_enough(generated, expected)) {
        ++failures;
        ADD_FAILURE() << "generated bias_log2 " << generated << ", interpreter " << expected
                      << " at b=" << ix.b << " h=" << ix.h << " q=" << ix.q << " k=" << ix.k
                      << " k_step=" << k_step << "; " << describe(*problem);
      }
    }
    if (failures > 0) return;
  }
}

INSTANTIATE_TEST_SUITE_P(Variants, GeneratedHooks, ::testing::Range<std::size_t>(0, kEntryCount),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return std::string(kEntries[info.param].test_name);
                         });

// Every example is in the table, so a new one cannot go untested.
TEST(GeneratedHooksTable, CoversEveryExample) {
  std::set<std::string> listed;
  for (const HookEntry& entry : kEntries) {
    listed.insert(std::filesystem::path(entry.file).filename().string() + ":" + entry.variant);
  }
  int examples = 0;
  for (const auto& file :
       std::filesystem::directory_iterator(std::string(ATTNJIT_SOURCE_DIR) + "/examples")) {
    if (file.path().extension() != ".attn") continue;
    for (const Variant& variant : parse_file(file.path().string())) {
      ++examples;
      EXPECT_TRUE(listed.contains(file.path().filename().string() + ":" + variant.name()))
          << variant.name() << " of " << file.path() << " is not in the generated hooks";
    }
  }
  EXPECT_GE(examples, 12);
  EXPECT_GE(kEntryCount, static_cast<std::size_t>(examples) + 10);
}

// Where only indices, sizes and params decide the mask, a tile the mask
// covers entirely (or misses entirely) must be classified so, or the kernel
// masks element by element where it need not and visits tiles it could skip.
const HookEntry& entry_named(std::string_view file, std::string_view variant) {
  for (const HookEntry& entry : kEntries) {
    if (std::filesystem::path(entry.file).filename() == file && entry.variant == variant) {
      return entry;
    }
  }
  throw std::runtime_error(fmt::format("no {} in {}", variant, file));
}

class ExactClassify : public ::testing::TestWithParam<std::string> {};

TEST_P(ExactClassify, FullAndEmptyTilesAreNotPartial) {
  const HookEntry& entry = entry_named(GetParam() + ".attn", GetParam());
  const Variant& variant = variant_of(entry);
  std::array<int, 3> seen{};
  for (std::uint64_t seed = 0; seed < 2 * kSeeds; seed += 2) {  // the harness's params
    const auto problem = make_problem(entry, seed);
    const AttentionShape& s = problem->host.shape;
    for (const std::int64_t bm : {16, 32}) {
      for (const std::int64_t bn : {16, 32}) {
        for (std::int64_t q0 = 0; q0 < s.q_len; q0 += bm) {
          for (std::int64_t k0 = 0; k0 < s.kv_len; k0 += bn) {
            aj::Tile tile{};
            tile.at = problem->index(s.batch - 1, s.heads - 1, 0, 0);
            tile.q0 = q0;
            tile.k0 = k0;
            tile.q1 = std::min<long long>(q0 + bm, s.q_len) - 1;
            tile.k1 = std::min<long long>(k0 + bn, s.kv_len) - 1;
            const TileTruth truth = brute_force(variant, *problem, tile);
            const int expected =
                truth.any_false ? (truth.any_true ? aj::kPartial : aj::kEmpty) : aj::kFull;
            ++seen[static_cast<std::size_t>(expected)];
            ASSERT_EQ(problem->hooks.classify(tile), expected)
                << describe(tile) << "; " << describe(*problem);
          }
        }
      }
    }
  }
  EXPECT_GT(seen[aj::kEmpty], 0);
  EXPECT_GT(seen[aj::kFull], 0);
  EXPECT_GT(seen[aj::kPartial], 0);
}

INSTANTIATE_TEST_SUITE_P(IndexMasks, ExactClassify, ::testing::Values("causal", "sliding_window"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

// The prefill picture at the kernel's own tile sizes: 64 x 64 tiles of a
// 256 x 256 causal problem, and the same rows against 320 keys (the queries
// aligned to the end), where the diagonal moves right by 64.
TEST(ExactClassify, CausalDiagonal) {
  const HookEntry& entry = entry_named("causal.attn", "causal");
  harness::HostProblem host = harness::random_problem(variant_of(entry), {1, 1, 1, 1, 1}, {});
  const HookInputs inputs(variant_of(entry), host);
  const Hooks hooks = entry.bind(inputs);
  for (const std::int64_t kv_len : {256, 320}) {
    const std::int64_t shift = kv_len - 256;
    for (std::int64_t m = 0; m < 4; ++m) {
      for (std::int64_t n = 0; n < kv_len / 64; ++n) {
        aj::Tile tile{};
        tile.at = {0, 0, 0, 0, 0, 1, 1, 1, 256, kv_len};
        tile.q0 = 64 * m;
        tile.q1 = 64 * m + 63;
        tile.k0 = 64 * n;
        tile.k1 = 64 * n + 63;
        const std::int64_t diagonal = m + shift / 64;  // the key tile the row tile ends in
        const int expected = n < diagonal ? aj::kFull : n > diagonal ? aj::kEmpty : aj::kPartial;
        EXPECT_EQ(hooks.classify(tile), expected) << "kv_len " << kv_len << " " << describe(tile);
      }
    }
  }
}

}  // namespace
}  // namespace attnjit::codegen_test
