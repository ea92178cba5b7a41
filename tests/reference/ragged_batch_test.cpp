// Ragged batches: batch entry b has its own kv_lens[b] keys, so the reference
// must give each entry exactly what it gives that entry alone with only those keys.
#include "tests/reference/naive_attention.hpp"
#include <attnjit/reference.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

using reftest::all_close;
using reftest::kInf;
using reftest::naive_attention;
using reftest::parse_one;
using reftest::plain_score;
using reftest::Position;
using reftest::Problem;

// The score reads kv_len through the causal alignment, so an entry that saw the capacity
// instead of its own length would get other numbers.
constexpr char kAlignedBias[] = R"(
  variant aligned {
    dtype      fp16;
    head_dim   16;
    head_dim_v 8;
    mask       causal;
    score      score + 0.25 * (k - (q + kv_len - q_len));
  }
)";

// K and V rows at or past each entry's length made NaN: a reference that read them would
// poison the rows it computes.
void poison_missing_keys(Problem& p, const std::vector<std::int64_t>& kv_lens) {
  const AttentionShape& s = p.shape;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (std::int64_t b = 0; b < s.batch; ++b) {
    for (std::int64_t hkv = 0; hkv < s.kv_heads; ++hkv) {
      for (std::int64_t k = kv_lens[static_cast<std::size_t>(b)]; k < s.kv_len; ++k) {
        const std::int64_t row = (b * s.kv_heads + hkv) * s.kv_len + k;
        std::fill_n(p.k.begin() + row * p.head_dim, p.head_dim, nan);
        std::fill_n(p.v.begin() + row * p.head_dim_v, p.head_dim_v, nan);
      }
    }
  }
}

// Batch entry b of `p` as a uniform problem of its own, with only its first kv_len keys.
Problem entry_alone(const Problem& p, std::int64_t b, std::int64_t kv_len) {
  AttentionShape shape = p.shape;
  shape.batch = 1;
  shape.kv_len = kv_len;
  Problem alone(shape, p.head_dim, p.head_dim_v, 0);
  const std::int64_t q_values = p.shape.heads * p.shape.q_len * p.head_dim;
  std::copy_n(p.q.begin() + b * q_values, q_values, alone.q.begin());
  for (std::int64_t hkv = 0; hkv < shape.kv_heads; ++hkv) {
    const std::int64_t from = (b * p.shape.kv_heads + hkv) * p.shape.kv_len;
    const std::int64_t to = hkv * kv_len;
    std::copy_n(p.k.begin() + from * p.head_dim, kv_len * p.head_dim,
                alone.k.begin() + to * p.head_dim);
    std::copy_n(p.v.begin() + from * p.head_dim_v, kv_len * p.head_dim_v,
                alone.v.begin() + to * p.head_dim_v);
  }
  return alone;
}

// The rows of batch entry b in `full`.
ReferenceOutput entry_rows(const ReferenceOutput& full, const Problem& p, std::int64_t b) {
  const std::int64_t rows = p.shape.heads * p.shape.q_len;
  const auto first = full.lse.begin() + b * rows;
  const auto first_out = full.out.begin() + b * rows * p.head_dim_v;
  return {{first_out, first_out + rows * p.head_dim_v}, {first, first + rows}};
}

// Expects every entry of the ragged batch to equal the entry run alone, bit for bit: the
// same rows go through the same computation.
void expect_entries_alone(const Variant& variant, const Problem& p,
                          const std::vector<std::int64_t>& kv_lens) {
  ReferenceInputs inputs = p.inputs();
  inputs.kv_lens = kv_lens;
  const ReferenceOutput ragged = reference_attention(variant, inputs);
  for (std::int64_t b = 0; b < p.shape.batch; ++b) {
    const std::int64_t kv_len = kv_lens[static_cast<std::size_t>(b)];
    const ReferenceOutput alone = reference_attention(variant, entry_alone(p, b, kv_len).inputs());
    const ReferenceOutput got = entry_rows(ragged, p, b);
    EXPECT_EQ(got.out, alone.out) << "batch entry " << b << " with " << kv_len << " keys";
    EXPECT_EQ(got.lse, alone.lse) << "batch entry " << b << " with " << kv_len << " keys";
  }
}

TEST(RaggedBatch, EachEntryComputesWhatItWouldAlone) {
  const Variant variant = parse_one(kAlignedBias);
  Problem p({.batch = 5, .heads = 4, .kv_heads = 2, .q_len = 3, .kv_len = 9}, 16, 8, 41);
  const std::vector<std::int64_t> kv_lens = {9, 5, 0, 2, 1};
  poison_missing_keys(p, kv_lens);
  expect_entries_alone(variant, p, kv_lens);
}

TEST(RaggedBatch, AnEntryWithoutKeysGivesZerosAndMinusInf) {
  const Variant variant = parse_one("variant full { dtype fp16; head_dim 8; }");
  Problem p({.batch = 3, .heads = 2, .kv_heads = 1, .q_len = 4, .kv_len = 6}, 8, 8, 42);
  const std::vector<std::int64_t> kv_lens = {6, 0, 3};
  poison_missing_keys(p, kv_lens);
  ReferenceInputs inputs = p.inputs();
  inputs.kv_lens = kv_lens;
  const ReferenceOutput got = reference_attention(variant, inputs);
  const ReferenceOutput empty = entry_rows(got, p, 1);
  EXPECT_EQ(empty.out, std::vector<double>(empty.out.size(), 0.0));
  EXPECT_EQ(empty.lse, std::vector<double>(empty.lse.size(), -kInf));
  for (const std::int64_t b : {0, 2}) {
    for (const double lse : entry_rows(got, p, b).lse) EXPECT_TRUE(std::isfinite(lse)) << b;
  }
  expect_entries_alone(variant, p, kv_lens);
}

TEST(RaggedBatch, KvLenInAMaskIsTheEntrysOwn) {
  // The last two keys of each entry, whatever the capacity.
  const Variant variant =
      parse_one("variant tail { dtype fp16; head_dim 8; mask k >= kv_len - 2; }");
  Problem p({.batch = 3, .heads = 2, .kv_heads = 2, .q_len = 3, .kv_len = 7}, 8, 8, 43);
  const std::vector<std::int64_t> kv_lens = {7, 4, 1};
  poison_missing_keys(p, kv_lens);
  ReferenceInputs inputs = p.inputs();
  inputs.kv_lens = kv_lens;
  const ReferenceOutput ragged = reference_attention(variant, inputs);
  for (std::int64_t b = 0; b < p.shape.batch; ++b) {
    const std::int64_t kv_len = kv_lens[static_cast<std::size_t>(b)];
    const auto mask = [&](const Position& pos) { return pos.k >= kv_len - 2; };
    const ReferenceOutput want =
        naive_attention(entry_alone(p, b, kv_len), variant.scale(), mask, plain_score);
    const ReferenceOutput got = entry_rows(ragged, p, b);
    EXPECT_TRUE(all_close(got.out, want.out)) << "O of batch entry " << b;
    EXPECT_TRUE(all_close(got.lse, want.lse)) << "LSE of batch entry " << b;
    for (std::int64_t h = 0; h < p.shape.heads; ++h) {
      EXPECT_EQ(unmasked_pairs(variant, inputs, b, h),
                p.shape.q_len * std::min<std::int64_t>(2, kv_len))
          << "batch entry " << b;
    }
  }
}

TEST(RaggedBatch, UnmaskedPairsCountOnlyTheEntrysKeys) {
  const Variant variant = parse_one("variant c { dtype fp16; head_dim 8; mask causal; }");
  const Problem p({.batch = 3, .heads = 2, .kv_heads = 2, .q_len = 3, .kv_len = 9}, 8, 8, 44);
  ReferenceInputs inputs = p.inputs();
  inputs.kv_lens = {9, 2, 0};
  // Query q of an entry with L keys sees keys 0..q + L - q_len.
  EXPECT_EQ(unmasked_pairs(variant, inputs, 0, 1), 7 + 8 + 9);
  EXPECT_EQ(unmasked_pairs(variant, inputs, 1, 1), 0 + 1 + 2);
  EXPECT_EQ(unmasked_pairs(variant, inputs, 2, 0), 0);
}

TEST(RaggedBatch, FullLengthsAreTheUniformBatch) {
  const Variant variant = parse_one(kAlignedBias);
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 1, .q_len = 5, .kv_len = 8}, 16, 8, 45);
  ReferenceInputs inputs = p.inputs();
  const ReferenceOutput uniform = reference_attention(variant, inputs);
  inputs.kv_lens = {8, 8};
  const ReferenceOutput ragged = reference_attention(variant, inputs);
  EXPECT_EQ(ragged.out, uniform.out);
  EXPECT_EQ(ragged.lse, uniform.lse);
}

TEST(RaggedBatch, SampledRowsMatchTheFullReference) {
  const Variant variant = parse_one(kAlignedBias);
  Problem p({.batch = 4, .heads = 2, .kv_heads = 2, .q_len = 4, .kv_len = 6}, 16, 8, 46);
  const std::vector<std::int64_t> kv_lens = {2, 6, 0, 5};
  poison_missing_keys(p, kv_lens);
  ReferenceInputs inputs = p.inputs();
  inputs.kv_lens = kv_lens;
  const ReferenceOutput full = reference_attention(variant, inputs);
  const std::vector<RowIndex> rows = sample_rows(p.shape, 12, 7);
  const std::vector<RowOutput> got = reference_rows(variant, inputs, rows);
  ASSERT_EQ(got.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t row =
        (rows[i].batch * p.shape.heads + rows[i].head) * p.shape.q_len + rows[i].q;
    const auto begin = full.out.begin() + row * p.head_dim_v;
    EXPECT_EQ(got[i].out, std::vector<double>(begin, begin + p.head_dim_v)) << "row " << row;
    EXPECT_EQ(got[i].lse, full.lse[static_cast<std::size_t>(row)]) << "row " << row;
  }
}

}  // namespace
}  // namespace attnjit
