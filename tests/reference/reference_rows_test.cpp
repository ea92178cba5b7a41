// The row-sampled reference against the full one. They share the per-row
// computation, so the rows must agree exactly, not just closely.
#include "tests/reference/naive_attention.hpp"
#include <attnjit/error.hpp>
#include <attnjit/reference.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

using reftest::kInf;
using reftest::parse_one;
using reftest::Problem;

std::int64_t row_count(const AttentionShape& shape) {
  return shape.batch * shape.heads * shape.q_len;
}

std::int64_t flat_row(const AttentionShape& shape, const RowIndex& row) {
  return (row.batch * shape.heads + row.head) * shape.q_len + row.q;
}

// Expects reference_rows to give, for `rows`, exactly what reference_attention gives.
void expect_rows_match(const Variant& variant, const ReferenceInputs& inputs,
                       const std::vector<RowIndex>& rows) {
  const ReferenceOutput full = reference_attention(variant, inputs);
  const std::vector<RowOutput> got = reference_rows(variant, inputs, rows);
  ASSERT_EQ(got.size(), rows.size());
  const auto width = static_cast<std::size_t>(variant.head_dim_v());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto row = static_cast<std::size_t>(flat_row(inputs.shape, rows[i]));
    const auto begin = full.out.begin() + static_cast<std::ptrdiff_t>(row * width);
    const std::vector<double> want(begin, begin + static_cast<std::ptrdiff_t>(width));
    EXPECT_EQ(got[i].out, want) << "row " << row;
    EXPECT_EQ(got[i].lse, full.lse[row]) << "row " << row;
  }
}

// A sample of a third of the rows, then all of them.
void expect_sampled_and_all_rows_match(const Variant& variant, const ReferenceInputs& inputs) {
  const auto total = static_cast<std::size_t>(row_count(inputs.shape));
  expect_rows_match(variant, inputs, sample_rows(inputs.shape, total / 3, 1));
  expect_rows_match(variant, inputs, sample_rows(inputs.shape, total, 2));
}

// The shipped example `name`, so that these tests follow the variants users start from.
Variant example(const std::string& name) {
  std::ifstream file(std::string(ATTNJIT_SOURCE_DIR) + "/examples/" + name + ".attn");
  std::stringstream text;
  text << file.rdbuf();
  return parse_one(text.str());
}

TEST(ReferenceRows, Dense) {
  const Variant variant = example("dense");
  const Problem p({.batch = 2, .heads = 3, .kv_heads = 3, .q_len = 7, .kv_len = 11}, 64, 64, 1);
  expect_sampled_and_all_rows_match(variant, p.inputs());
}

TEST(ReferenceRows, CausalWithDistinctValueHeadDim) {
  const Variant variant =
      parse_one("variant c { dtype bf16; head_dim 16; head_dim_v 24; mask causal; }");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 2, .q_len = 9, .kv_len = 9}, 16, 24, 2);
  expect_sampled_and_all_rows_match(variant, p.inputs());
}

TEST(ReferenceRows, SlidingWindowTakesTheParam) {
  const Variant variant = example("sliding_window");
  const Problem p({.batch = 1, .heads = 2, .kv_heads = 2, .q_len = 12, .kv_len = 16}, 128, 128, 3);
  ReferenceInputs inputs = p.inputs();
  inputs.params["window"] = std::int32_t{5};
  expect_sampled_and_all_rows_match(variant, inputs);
}

TEST(ReferenceRows, AlibiScore) {
  const Variant variant = example("alibi");
  const Problem p({.batch = 2, .heads = 4, .kv_heads = 4, .q_len = 6, .kv_len = 10}, 128, 128, 4);
  ReferenceInputs inputs = p.inputs();
  inputs.tensors["slope"] = HostTensor{{4}, {0.5, 0.25, 0.125, 0.0625}};
  expect_sampled_and_all_rows_match(variant, inputs);
}

TEST(ReferenceRows, DocumentIds) {
  const Variant variant = example("document_mask");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 2, .q_len = 6, .kv_len = 15}, 128, 128, 5);
  ReferenceInputs inputs = p.inputs();
  inputs.tensors["doc"] = HostTensor{{2, 15}, {0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4,
                                               0, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3, 3, 3, 4}};
  expect_sampled_and_all_rows_match(variant, inputs);
}

TEST(ReferenceRows, GroupedQueryAttentionFourToTwo) {
  const Variant variant = example("causal");
  const Problem p({.batch = 2, .heads = 4, .kv_heads = 2, .q_len = 5, .kv_len = 7}, 128, 128, 6);
  expect_sampled_and_all_rows_match(variant, p.inputs());
}

TEST(ReferenceRows, FewerQueriesThanKeys) {
  const Variant variant = example("causal");
  const Problem p({.batch = 1, .heads = 2, .kv_heads = 1, .q_len = 5, .kv_len = 17}, 128, 128, 7);
  expect_sampled_and_all_rows_match(variant, p.inputs());
}

TEST(ReferenceRows, MoreQueriesThanKeysMasksTheFirstRows) {
  const Variant variant = example("causal");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 1, .q_len = 10, .kv_len = 4}, 128, 128, 8);
  expect_sampled_and_all_rows_match(variant, p.inputs());
  // Query q sees keys up to q - 6, so row 0 sees nothing.
  const std::vector<RowIndex> first = {{.batch = 1, .head = 1, .q = 0}};
  const std::vector<RowOutput> got = reference_rows(variant, p.inputs(), first);
  EXPECT_EQ(got.at(0).lse, -kInf);
  EXPECT_EQ(got.at(0).out, std::vector<double>(128, 0.0));
}

TEST(ReferenceRows, RowMaskedByATensor) {
  const Variant variant = parse_one(R"(
    variant row_gate { dtype fp16; head_dim 8; tensor live: bool[q_len]; mask live[q] && k <= q + 1; }
  )");
  const AttentionShape shape{.batch = 2, .heads = 3, .kv_heads = 1, .q_len = 5, .kv_len = 6};
  const Problem p(shape, 8, 8, 9);
  ReferenceInputs inputs = p.inputs();
  inputs.tensors["live"] = HostTensor{{5}, {1, 1, 0, 1, 1}};
  expect_sampled_and_all_rows_match(variant, inputs);
  const std::vector<RowIndex> masked = {{.batch = 0, .head = 1, .q = 2},
                                        {.batch = 1, .head = 2, .q = 2}};
  for (const RowOutput& row : reference_rows(variant, inputs, masked)) {
    EXPECT_EQ(row.lse, -kInf);
    EXPECT_EQ(row.out, std::vector<double>(8, 0.0));
  }
}

TEST(ReferenceRows, RowsInAnyOrderAndRepeated) {
  const Variant variant = parse_one("variant c { dtype fp16; head_dim 16; mask causal; }");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 2, .q_len = 4, .kv_len = 6}, 16, 16, 10);
  expect_rows_match(variant, p.inputs(),
                    {{.batch = 1, .head = 1, .q = 3},
                     {.batch = 0, .head = 0, .q = 0},
                     {.batch = 1, .head = 1, .q = 3},
                     {.batch = 0, .head = 1, .q = 2}});
}

TEST(ReferenceRows, NoRowsGiveNoOutput) {
  const Variant variant = parse_one("variant full { dtype fp16; head_dim 8; }");
  const Problem p({.batch = 1, .heads = 1, .kv_heads = 1, .q_len = 3, .kv_len = 3}, 8, 8, 11);
  EXPECT_TRUE(reference_rows(variant, p.inputs(), {}).empty());
}

TEST(ReferenceRows, RowOutsideTheShapeThrows) {
  const Variant variant = parse_one("variant full { dtype fp16; head_dim 8; }");
  const AttentionShape shape{.batch = 2, .heads = 4, .kv_heads = 2, .q_len = 3, .kv_len = 5};
  const Problem p(shape, 8, 8, 12);
  const std::vector<RowIndex> outside = {
      {.batch = 2, .head = 0, .q = 0}, {.batch = -1, .head = 0, .q = 0},
      {.batch = 0, .head = 4, .q = 0}, {.batch = 0, .head = -1, .q = 0},
      {.batch = 0, .head = 0, .q = 3}, {.batch = 0, .head = 0, .q = -1},
  };
  for (const RowIndex& row : outside) {
    const std::vector<RowIndex> rows = {{.batch = 1, .head = 3, .q = 2}, row};
    EXPECT_THROW((void)reference_rows(variant, p.inputs(), rows), InputError)
        << row.batch << ", " << row.head << ", " << row.q;
  }
}

TEST(ReferenceRows, BadInputsThrowLikeTheFullReference) {
  const Variant variant = parse_one("variant full { dtype fp16; head_dim 8; }");
  const Problem p({.batch = 1, .heads = 2, .kv_heads = 2, .q_len = 3, .kv_len = 5}, 8, 8, 13);
  ReferenceInputs inputs = p.inputs();
  inputs.q = inputs.q.first(inputs.q.size() - 1);
  const std::vector<RowIndex> rows = {{.batch = 0, .head = 0, .q = 0}};
  EXPECT_THROW((void)reference_rows(variant, inputs, rows), InputError);
}

const AttentionShape kSampled{.batch = 3, .heads = 4, .kv_heads = 2, .q_len = 37, .kv_len = 5};

TEST(SampleRows, DistinctInRangeAndOrdered) {
  for (const std::size_t count : {1U, 2U, 3U, 10U, 100U, 443U}) {
    for (std::uint64_t seed = 0; seed < 20; ++seed) {
      const std::vector<RowIndex> rows = sample_rows(kSampled, count, seed);
      ASSERT_EQ(rows.size(), count);
      std::int64_t previous = -1;
      for (const RowIndex& row : rows) {
        EXPECT_TRUE(row.batch >= 0 && row.batch < kSampled.batch);
        EXPECT_TRUE(row.head >= 0 && row.head < kSampled.heads);
        EXPECT_TRUE(row.q >= 0 && row.q < kSampled.q_len);
        const std::int64_t flat = flat_row(kSampled, row);
        EXPECT_GT(flat, previous) << "count " << count << ", seed " << seed;
        previous = flat;
      }
    }
  }
}

TEST(SampleRows, DeterministicForASeed) {
  EXPECT_EQ(sample_rows(kSampled, 25, 7), sample_rows(kSampled, 25, 7));
  EXPECT_NE(sample_rows(kSampled, 25, 7), sample_rows(kSampled, 25, 8));
}

TEST(SampleRows, IncludesTheFirstAndLastRowOfAHead) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    const std::vector<RowIndex> rows = sample_rows(kSampled, 5, seed);
    const bool found = std::any_of(rows.begin(), rows.end(), [&](const RowIndex& first) {
      return first.q == 0 && std::find(rows.begin(), rows.end(),
                                       RowIndex{.batch = first.batch,
                                                .head = first.head,
                                                .q = kSampled.q_len - 1}) != rows.end();
    });
    EXPECT_TRUE(found) << "seed " << seed;
  }
  const std::vector<RowIndex> one = sample_rows(kSampled, 1, 3);
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].q, 0);
}

TEST(SampleRows, SpreadsOverTheRows) {
  // Rows beyond the two forced ones are uniform, so many seeds reach every row.
  std::set<std::int64_t> seen;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    for (const RowIndex& row : sample_rows(kSampled, 20, seed)) {
      seen.insert(flat_row(kSampled, row));
    }
  }
  EXPECT_EQ(seen.size(), static_cast<std::size_t>(row_count(kSampled)));
}

TEST(SampleRows, CoversAllRowsWhenCountDoes) {
  const auto total = static_cast<std::size_t>(row_count(kSampled));
  for (const std::size_t count : {total, total + 1, total * 10}) {
    const std::vector<RowIndex> rows = sample_rows(kSampled, count, 5);
    ASSERT_EQ(rows.size(), total);
    for (std::size_t i = 0; i < total; ++i) {
      EXPECT_EQ(flat_row(kSampled, rows[i]), static_cast<std::int64_t>(i));
    }
  }
}

TEST(SampleRows, EmptyForNoRowsOrNoCount) {
  EXPECT_TRUE(sample_rows(kSampled, 0, 1).empty());
  AttentionShape no_queries = kSampled;
  no_queries.q_len = 0;
  EXPECT_TRUE(sample_rows(no_queries, 10, 1).empty());
}

TEST(SampleRows, SingleQueryRowPerHead) {
  const AttentionShape shape{.batch = 2, .heads = 8, .kv_heads = 8, .q_len = 1, .kv_len = 9};
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const std::vector<RowIndex> rows = sample_rows(shape, 5, seed);
    ASSERT_EQ(rows.size(), 5U);
    std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> distinct;
    for (const RowIndex& row : rows) distinct.emplace(row.batch, row.head, row.q);
    EXPECT_EQ(distinct.size(), 5U);
  }
}

}  // namespace
}  // namespace attnjit
