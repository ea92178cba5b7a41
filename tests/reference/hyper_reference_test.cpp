// approx hyper's plan and its CPU reference: how a call splits into levels,
// and that the approximation is exact attention where its blocks hold every
// key (the sampled columns then all fall in a query's own block).
#include "language/hyper_plan.hpp"
#include "tests/reference/naive_attention.hpp"
#include <attnjit/error.hpp>
#include <attnjit/reference.hpp>

#include <cmath>
#include <cstddef>
#include <string>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

using reftest::parse_one;
using reftest::Problem;

HyperApprox small(int block, int samples, int min_seq) { return {block, samples, 3, min_seq}; }

TEST(HyperPlan, CausalHalvesWhileSegmentsKeepMinSeqRows) {
  // 301 rows: ceil(301 / 4) = 76 >= 64 > ceil(301 / 8), so two levels over
  // 304 rows (3 padding) and exact causal attention within 76-row chunks.
  const HyperPlan plan = hyper_plan(small(32, 16, 64), true, 301, 301);
  EXPECT_EQ(plan.exact_chunk, 76);
  EXPECT_EQ(plan.valid_rows, 301);
  ASSERT_EQ(plan.levels.size(), 2U);
  const HyperLevel& top = plan.levels[0];
  EXPECT_EQ(top.q_rows, 152);
  EXPECT_EQ(top.k_rows, 152);
  EXPECT_EQ(top.segments, 1);
  EXPECT_EQ(top.q_first, 152);
  EXPECT_EQ(top.k_first, 0);
  EXPECT_EQ(top.step, 304);
  EXPECT_EQ(top.q_block, 31);  // 152 queries over the 5 blocks of 152 keys
  const HyperLevel& next = plan.levels[1];
  EXPECT_EQ(next.q_rows, 76);
  EXPECT_EQ(next.segments, 2);
  EXPECT_EQ(next.q_first, 76);
  EXPECT_EQ(next.step, 152);
  EXPECT_EQ(next.samples, 16);
}

TEST(HyperPlan, ShortCallsAreExact) {
  EXPECT_TRUE(hyper_plan(small(32, 16, 64), true, 64, 64).levels.empty());
  // Past min_seq rows but halves of fewer: the paper is exact there too.
  EXPECT_TRUE(hyper_plan(small(32, 16, 64), true, 100, 100).levels.empty());
  EXPECT_EQ(hyper_plan(small(32, 16, 64), true, 100, 100).exact_chunk, 100);
  EXPECT_TRUE(hyper_plan(small(32, 16, 64), false, 63, 1000).levels.empty());
}

TEST(HyperPlan, NotCausalIsOneLevelOfAllRows) {
  const HyperPlan plan = hyper_plan(small(48, 16, 64), false, 200, 333);
  EXPECT_EQ(plan.exact_chunk, 0);
  ASSERT_EQ(plan.levels.size(), 1U);
  EXPECT_EQ(plan.levels[0].q_rows, 200);
  EXPECT_EQ(plan.levels[0].k_rows, 333);
  EXPECT_EQ(plan.levels[0].q_block, 29);
}

TEST(HyperPlan, CausalNeedsSquareCallsPastMinSeq) {
  EXPECT_THROW(static_cast<void>(hyper_plan(small(32, 16, 64), true, 300, 400)), InputError);
  EXPECT_NO_THROW(static_cast<void>(hyper_plan(small(32, 16, 64), true, 60, 400)));
}

TEST(HyperPlan, ExactOfDropsTheApproximationAlone) {
  const Variant hyper =
      parse_one("variant h { dtype fp16; head_dim 64; mask causal; approx hyper(block=64); }");
  const Variant exact = exact_of(hyper);
  EXPECT_EQ(exact.name(), "h_exact");
  EXPECT_FALSE(exact.hyper());
  EXPECT_EQ(exact.hash(), parse_one("variant e { dtype fp16; head_dim 64; mask causal; }").hash());
}

void expect_same(const ReferenceOutput& got, const ReferenceOutput& want) {
  ASSERT_EQ(got.out.size(), want.out.size());
  for (std::size_t i = 0; i < got.out.size(); ++i) ASSERT_NEAR(got.out[i], want.out[i], 1e-9) << i;
  for (std::size_t i = 0; i < got.lse.size(); ++i) ASSERT_NEAR(got.lse[i], want.lse[i], 1e-9) << i;
}

TEST(HyperReference, IsExactAttentionWhereOneBlockHoldsEveryKey) {
  for (const bool causal : {true, false}) {
    const std::string mask = causal ? "mask causal; " : "";
    const Variant hyper = parse_one("variant h { dtype bf16; head_dim 16; " + mask +
                                    "approx hyper(block=4096, samples=16, lsh_bits=3, "
                                    "min_seq=64); }");
    const Variant exact = parse_one("variant e { dtype bf16; head_dim 16; " + mask + "}");
    const AttentionShape shape =
        causal ? AttentionShape{2, 4, 2, 301, 301} : AttentionShape{1, 2, 1, 200, 333};
    const Problem problem(shape, 16, 16, 7);
    SCOPED_TRACE(causal);
    expect_same(reference_attention(hyper, problem.inputs()),
                reference_attention(exact, problem.inputs()));
  }
}

TEST(HyperReference, ApproximatesExactAttentionWithSmallBlocks) {
  const Variant hyper = parse_one(
      "variant h { dtype bf16; head_dim 16; mask causal; approx hyper(block=16, samples=32, "
      "lsh_bits=3, min_seq=64); }");
  const Variant exact = parse_one("variant e { dtype bf16; head_dim 16; mask causal; }");
  const Problem problem({1, 2, 1, 301, 301}, 16, 16, 3);
  const ReferenceOutput got = reference_attention(hyper, problem.inputs());
  const ReferenceOutput want = reference_attention(exact, problem.inputs());
  double diff = 0;
  double norm = 0;
  for (std::size_t i = 0; i < got.out.size(); ++i) {
    ASSERT_TRUE(std::isfinite(got.out[i])) << i;
    diff += (got.out[i] - want.out[i]) * (got.out[i] - want.out[i]);
    norm += want.out[i] * want.out[i];
  }
  // An approximation: not exact, yet near (rows 0..75 are exact, the rest
  // see 16 keys of their block and 32 drawn of the other half).
  EXPECT_GT(diff, 0.0);
  EXPECT_LT(std::sqrt(diff / norm), 1.0);
  const std::vector<RowIndex> rows = {{0, 1, 300}, {0, 0, 5}, {0, 1, 150}};
  const std::vector<RowOutput> some = reference_rows(hyper, problem.inputs(), rows);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto at = static_cast<std::size_t>((rows[i].head * 301 + rows[i].q) * 16);
    for (std::size_t c = 0; c < 16; ++c) EXPECT_EQ(some[i].out[c], got.out[at + c]);
  }
}

}  // namespace
}  // namespace attnjit
