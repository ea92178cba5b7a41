// The reference against naive attentions written from LANGUAGE.md's formulas,
// one per kind of variant the language is meant to express.
#include "tests/reference/naive_attention.hpp"
#include <attnjit/builder.hpp>
#include <attnjit/error.hpp>
#include <attnjit/reference.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

using reftest::expect_matches;
using reftest::kInf;
using reftest::last_key;
using reftest::naive_attention;
using reftest::no_mask;
using reftest::parse_one;
using reftest::plain_score;
using reftest::Position;
using reftest::Problem;

// Expects every row of `q` below `first_visible` to be fully masked.
void expect_masked_rows(const ReferenceOutput& got, const Problem& p, std::int64_t first_visible) {
  const AttentionShape& s = p.shape;
  for (std::int64_t row = 0; row < s.batch * s.heads * s.q_len; ++row) {
    if (row % s.q_len >= first_visible) continue;
    EXPECT_EQ(got.lse[static_cast<std::size_t>(row)], -kInf) << "row " << row;
    for (std::int64_t j = 0; j < p.head_dim_v; ++j) {
      EXPECT_EQ(got.out[static_cast<std::size_t>(row * p.head_dim_v + j)], 0.0) << "row " << row;
    }
  }
}

bool causal_mask(const AttentionShape& s, const Position& pos) {
  return last_key(s, pos.q) >= pos.k;
}

TEST(ReferenceAttention, FullAttentionWithDefaultScale) {
  const Variant variant = parse_one("variant full { dtype fp16; head_dim 64; }");
  EXPECT_EQ(variant.scale(), 0.125F);
  const Problem p({.batch = 2, .heads = 3, .kv_heads = 3, .q_len = 7, .kv_len = 11}, 64, 64, 1);
  expect_matches(reference_attention(variant, p.inputs()),
                 naive_attention(p, 0.125, no_mask, plain_score));
}

TEST(ReferenceAttention, Causal) {
  const Variant variant = parse_one("variant c { dtype bf16; head_dim 32; mask causal; }");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 2, .q_len = 9, .kv_len = 9}, 32, 32, 2);
  const auto mask = [](const Position& pos) { return pos.k <= pos.q; };
  expect_matches(reference_attention(variant, p.inputs()),
                 naive_attention(p, variant.scale(), mask, plain_score));
}

TEST(ReferenceAttention, DistinctValueHeadDim) {
  const Variant variant =
      parse_one("variant c { dtype fp16; head_dim 16; head_dim_v 24; mask causal; }");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 1, .q_len = 5, .kv_len = 8}, 16, 24, 3);
  const auto mask = [&](const Position& pos) { return causal_mask(p.shape, pos); };
  expect_matches(reference_attention(variant, p.inputs()),
                 naive_attention(p, variant.scale(), mask, plain_score));
}

constexpr char kSlidingWindow[] = R"(
  variant local {
    dtype    bf16;
    head_dim 32;
    param    window: i32 = 4096;
    mask     causal && q - k < window;
  }
)";

// Blocks of 4 query rows by 3 keys; odd lengths leave partial blocks at the ends.
TEST(ReferenceAttention, BlockSparsitySeesOnlyListedBlocks) {
  const Variant variant =
      parse_one("variant s { dtype bf16; head_dim 16; sparsity block(4, 3); mask causal; }");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 1, .q_len = 10, .kv_len = 11}, 16, 16, 7);
  const std::int64_t q_blocks = 3, k_blocks = 4;
  std::mt19937_64 rng(11);
  std::bernoulli_distribution listed(0.5);
  std::vector<double> blocks;
  for (std::int64_t i = 0; i < 2 * 2 * q_blocks * k_blocks; ++i) blocks.push_back(listed(rng));
  ReferenceInputs inputs = p.inputs();
  inputs.tensors["block_mask"] = HostTensor{{2, 2, q_blocks, k_blocks}, blocks};
  const auto mask = [&](const Position& pos) {
    const std::int64_t block = ((pos.b * 2 + pos.h) * q_blocks + pos.q / 4) * k_blocks + pos.k / 3;
    return causal_mask(p.shape, pos) && blocks[static_cast<std::size_t>(block)] != 0.0;
  };
  expect_matches(reference_attention(variant, inputs),
                 naive_attention(p, variant.scale(), mask, plain_score));

  // The block mask's shape is ceil(length / block) blocks each way.
  inputs.tensors["block_mask"] = HostTensor{{2, 2, q_blocks, 3}, std::vector<double>(36, 1.0)};
  EXPECT_THROW(static_cast<void>(reference_attention(variant, inputs)), InputError);
}

TEST(ReferenceAttention, SlidingWindowTakesTheParam) {
  const Variant variant = parse_one(kSlidingWindow);
  const Problem p({.batch = 1, .heads = 2, .kv_heads = 2, .q_len = 16, .kv_len = 16}, 32, 32, 4);
  ReferenceInputs inputs = p.inputs();
  inputs.params["window"] = std::int32_t{5};
  const auto mask = [](const Position& pos) { return pos.k <= pos.q && pos.q - pos.k < 5; };
  expect_matches(reference_attention(variant, inputs),
                 naive_attention(p, variant.scale(), mask, plain_score));
}

TEST(ReferenceAttention, SlidingWindowDefaultIsWiderThanTheRows) {
  const Variant variant = parse_one(kSlidingWindow);
  const Problem p({.batch = 1, .heads = 1, .kv_heads = 1, .q_len = 12, .kv_len = 12}, 32, 32, 5);
  const auto mask = [](const Position& pos) { return pos.k <= pos.q; };
  expect_matches(reference_attention(variant, p.inputs()),
                 naive_attention(p, variant.scale(), mask, plain_score));
}

TEST(ReferenceAttention, BuilderAndTextGiveTheSameVariant) {
  using namespace dsl;
  VariantBuilder builder("local");
  builder.dtype(DType::BF16).head_dim(32);
  const E window = builder.param("window", ParamType::I32, std::int32_t{4096});
  builder.mask(causal() && q() - k() < window);
  const Variant built = builder.build();
  const Variant parsed = parse_one(kSlidingWindow);
  EXPECT_EQ(built.hash(), parsed.hash());

  const Problem p({.batch = 2, .heads = 2, .kv_heads = 1, .q_len = 10, .kv_len = 10}, 32, 32, 6);
  ReferenceInputs inputs = p.inputs();
  inputs.params["window"] = std::int32_t{3};
  const ReferenceOutput from_builder = reference_attention(built, inputs);
  const ReferenceOutput from_text = reference_attention(parsed, inputs);
  EXPECT_EQ(from_builder.out, from_text.out);
  EXPECT_EQ(from_builder.lse, from_text.lse);
}

TEST(ReferenceAttention, AlibiWithPerHeadSlopes) {
  using namespace dsl;
  VariantBuilder builder("alibi");
  builder.dtype(DType::BF16).head_dim(32);
  const TensorHandle slope = builder.tensor("slope", ElemType::F32, {DimKind::Heads});
  builder.mask(causal());
  builder.score(score() + slope(h()) * (k() - (q() + kv_len() - q_len())));
  const Variant variant = builder.build();

  const Problem p({.batch = 2, .heads = 4, .kv_heads = 4, .q_len = 6, .kv_len = 10}, 32, 32, 7);
  const std::vector<double> slopes = {0.5, 0.25, 0.125, 0.0625};
  ReferenceInputs inputs = p.inputs();
  inputs.tensors["slope"] = HostTensor{{4}, slopes};
  const auto mask = [&](const Position& pos) { return causal_mask(p.shape, pos); };
  const auto logit = [&](const Position& pos, double s) {
    return s + slopes[static_cast<std::size_t>(pos.h)] *
                   static_cast<double>(pos.k - last_key(p.shape, pos.q));
  };
  expect_matches(reference_attention(variant, inputs),
                 naive_attention(p, variant.scale(), mask, logit));
}

TEST(ReferenceAttention, Softcap) {
  // A large scale pushes the scores to where the cap bends them.
  const Variant variant = parse_one(R"(
    variant capped { dtype fp16; head_dim 16; scale 4.0; mask causal; score softcap(score, 30.0); }
  )");
  EXPECT_EQ(variant.scale(), 4.0F);
  const Problem p({.batch = 1, .heads = 2, .kv_heads = 2, .q_len = 8, .kv_len = 8}, 16, 16, 8);
  const auto mask = [](const Position& pos) { return pos.k <= pos.q; };
  const auto logit = [](const Position& /*pos*/, double s) { return 30.0 * std::tanh(s / 30.0); };
  expect_matches(reference_attention(variant, p.inputs()), naive_attention(p, 4.0, mask, logit));
}

TEST(ReferenceAttention, DocumentMask) {
  const Variant variant = parse_one(R"(
    variant packed_docs {
      dtype    fp16;
      head_dim 32;
      tensor   doc: i32[batch, kv_len];
      mask     causal && doc[b, q + kv_len - q_len] == doc[b, k];
    }
  )");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 2, .q_len = 6, .kv_len = 15}, 32, 32, 9);
  // Documents are runs of increasing ids, with breaks drawn at random.
  std::mt19937 rng(10);
  std::bernoulli_distribution breaks(0.3);
  std::vector<double> doc;
  for (std::int64_t b = 0; b < p.shape.batch; ++b) {
    int id = 0;
    for (std::int64_t k = 0; k < p.shape.kv_len; ++k) {
      if (k > 0 && breaks(rng)) ++id;
      doc.push_back(id);
    }
  }
  ReferenceInputs inputs = p.inputs();
  inputs.tensors["doc"] = HostTensor{{p.shape.batch, p.shape.kv_len}, doc};
  const auto doc_at = [&](std::int64_t b, std::int64_t k) {
    return doc[static_cast<std::size_t>(b * p.shape.kv_len + k)];
  };
  const auto mask = [&](const Position& pos) {
    const std::int64_t last = last_key(p.shape, pos.q);
    return last >= pos.k && doc_at(pos.b, last) == doc_at(pos.b, pos.k);
  };
  expect_matches(reference_attention(variant, inputs),
                 naive_attention(p, variant.scale(), mask, plain_score));
}

TEST(ReferenceAttention, GroupedQueryAttention) {
  using namespace dsl;
  VariantBuilder builder("gqa");
  builder.dtype(DType::F16).head_dim(16).mask(causal());
  const Variant variant = builder.build();
  const Problem p({.batch = 2, .heads = 8, .kv_heads = 2, .q_len = 5, .kv_len = 7}, 16, 16, 11);
  const auto mask = [&](const Position& pos) { return causal_mask(p.shape, pos); };
  expect_matches(reference_attention(variant, p.inputs()),
                 naive_attention(p, variant.scale(), mask, plain_score));
}

TEST(ReferenceAttention, BuiltinSizesAndIndicesInTheScore) {
  // Terms constant along a row cancel in O, so the LSE is what checks them.
  // Powers of two keep the float literals exact.
  const Variant variant = parse_one(R"(
    variant builtins {
      dtype fp16;
      head_dim 8;
      score score + 0.5 * b - 0.25 * h + 0.125 * hkv + 0.0078125 * (q - k)
            + 0.0009765625 * (batch + 10 * heads + 100 * kv_heads + 1000 * q_len - 10000 * kv_len);
    }
  )");
  const AttentionShape shape{.batch = 2, .heads = 6, .kv_heads = 3, .q_len = 4, .kv_len = 5};
  const Problem p(shape, 8, 8, 12);
  const auto sizes = static_cast<double>(shape.batch + 10 * shape.heads + 100 * shape.kv_heads +
                                         1000 * shape.q_len - 10000 * shape.kv_len);
  const auto logit = [&](const Position& pos, double s) {
    return s + 0.5 * static_cast<double>(pos.b) - 0.25 * static_cast<double>(pos.h) +
           0.125 * static_cast<double>(pos.hkv) + 0.0078125 * static_cast<double>(pos.q - pos.k) +
           0.0009765625 * sizes;
  };
  expect_matches(reference_attention(variant, p.inputs()),
                 naive_attention(p, variant.scale(), no_mask, logit));
}

TEST(ReferenceAttention, FewerQueriesThanKeys) {
  const Variant variant = parse_one("variant c { dtype fp16; head_dim 16; mask causal; }");
  const Problem p({.batch = 1, .heads = 2, .kv_heads = 2, .q_len = 5, .kv_len = 17}, 16, 16, 13);
  const auto mask = [&](const Position& pos) { return causal_mask(p.shape, pos); };
  expect_matches(reference_attention(variant, p.inputs()),
                 naive_attention(p, variant.scale(), mask, plain_score));
}

TEST(ReferenceAttention, MoreQueriesThanKeysMasksTheFirstRows) {
  const Variant variant = parse_one("variant c { dtype fp16; head_dim 16; mask causal; }");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 1, .q_len = 10, .kv_len = 4}, 16, 16, 14);
  const ReferenceOutput got = reference_attention(variant, p.inputs());
  // Query q sees keys up to q - 6, so rows 0..5 see nothing.
  expect_masked_rows(got, p, 6);
  const auto mask = [&](const Position& pos) { return causal_mask(p.shape, pos); };
  expect_matches(got, naive_attention(p, variant.scale(), mask, plain_score));
}

TEST(ReferenceAttention, FullyMaskedByParam) {
  const Variant variant = parse_one(R"(
    variant gated { dtype fp16; head_dim 16; param enabled: bool = true; mask enabled; }
  )");
  const Problem p({.batch = 2, .heads = 2, .kv_heads = 2, .q_len = 3, .kv_len = 4}, 16, 16, 15);
  ReferenceInputs inputs = p.inputs();
  inputs.params["enabled"] = false;
  const ReferenceOutput got = reference_attention(variant, inputs);
  expect_masked_rows(got, p, p.shape.q_len);

  inputs.params.erase("enabled");
  expect_matches(reference_attention(variant, inputs),
                 naive_attention(p, variant.scale(), no_mask, plain_score));
}

TEST(ReferenceAttention, NoKeysMasksEveryRow) {
  const Variant variant = parse_one("variant full { dtype fp16; head_dim 8; }");
  const Problem p({.batch = 1, .heads = 2, .kv_heads = 2, .q_len = 3, .kv_len = 0}, 8, 8, 16);
  expect_masked_rows(reference_attention(variant, p.inputs()), p, p.shape.q_len);
}

TEST(ReferenceAttention, NoQueriesGivesEmptyOutput) {
  const Variant variant = parse_one("variant full { dtype fp16; head_dim 8; }");
  const Problem p({.batch = 1, .heads = 2, .kv_heads = 2, .q_len = 0, .kv_len = 3}, 8, 8, 17);
  const ReferenceOutput got = reference_attention(variant, p.inputs());
  EXPECT_TRUE(got.out.empty());
  EXPECT_TRUE(got.lse.empty());
}

TEST(ReferenceAttention, PerHeadPerRowMaskTensor) {
  const Variant variant = parse_one(R"(
    variant custom { dtype fp16; head_dim 8; tensor keep: u8[heads, q_len, kv_len]; mask keep[h, q, k] != 0; }
  )");
  const AttentionShape shape{.batch = 2, .heads = 3, .kv_heads = 1, .q_len = 5, .kv_len = 6};
  const Problem p(shape, 8, 8, 18);
  std::mt19937 rng(19);
  std::bernoulli_distribution kept(0.5);
  std::vector<double> keep(static_cast<std::size_t>(shape.heads * shape.q_len * shape.kv_len));
  for (double& value : keep) value = kept(rng) ? 1 : 0;
  // Head 1, row 2 keeps no key at all.
  for (std::int64_t k = 0; k < shape.kv_len; ++k) {
    keep[static_cast<std::size_t>((1 * shape.q_len + 2) * shape.kv_len + k)] = 0;
  }
  ReferenceInputs inputs = p.inputs();
  inputs.tensors["keep"] = HostTensor{{shape.heads, shape.q_len, shape.kv_len}, keep};
  const auto mask = [&](const Position& pos) {
    return keep[static_cast<std::size_t>((pos.h * shape.q_len + pos.q) * shape.kv_len + pos.k)] !=
           0;
  };
  const ReferenceOutput got = reference_attention(variant, inputs);
  expect_matches(got, naive_attention(p, variant.scale(), mask, plain_score));
  EXPECT_EQ(got.lse[static_cast<std::size_t>(1 * shape.q_len + 2)], -kInf);
}

TEST(ReferenceAttention, TensorReadsOutsideTheBoundsGiveZero) {
  const Variant variant = parse_one(R"(
    variant bounds {
      dtype    fp16;
      head_dim 16;
      tensor   bias: f32[kv_len];
      tensor   allow: bool[kv_len];
      tensor   shift: i32[4];
      tensor   table: f32[q_len, 3];
      mask     allow[k - 1] || k == 0;
      score    score + bias[k + 2] + shift[k % 8] + table[q, k] + bias[-1 - k];
    }
  )");
  const AttentionShape shape{.batch = 1, .heads = 2, .kv_heads = 2, .q_len = 4, .kv_len = 9};
  const Problem p(shape, 16, 16, 20);
  const std::vector<double> bias = reftest::random_normal(9, 21);
  const std::vector<double> allow = {1, 0, 1, 1, 0, 1, 1, 1, 0};
  const std::vector<double> shift = {3, -2, 1, 4};
  const std::vector<double> table = reftest::random_normal(12, 22);
  ReferenceInputs inputs = p.inputs();
  inputs.tensors["bias"] = HostTensor{{9}, bias};
  inputs.tensors["allow"] = HostTensor{{9}, allow};
  inputs.tensors["shift"] = HostTensor{{4}, shift};
  inputs.tensors["table"] = HostTensor{{4, 3}, table};
  const auto at = [](const std::vector<double>& data, std::int64_t i) {
    return i >= 0 && i < static_cast<std::int64_t>(data.size()) ? data[static_cast<std::size_t>(i)]
                                                                : 0.0;
  };
  const auto mask = [&](const Position& pos) { return at(allow, pos.k - 1) != 0 || pos.k == 0; };
  const auto logit = [&](const Position& pos, double s) {
    const double table_value = pos.k < 3 ? table[static_cast<std::size_t>(pos.q * 3 + pos.k)] : 0;
    return s + at(bias, pos.k + 2) + at(shift, pos.k % 8) + table_value;
  };
  expect_matches(reference_attention(variant, inputs),
                 naive_attention(p, variant.scale(), mask, logit));
}

TEST(ReferenceAttention, IntDivisionByZeroGivesZero) {
  const Variant variant = parse_one(R"(
    variant divzero {
      dtype    fp16;
      head_dim 16;
      param    zero: i32 = 0;
      mask     q / zero == 0 && q % zero == 0;
      score    score + k / (q - 2) + k % (q - 3);
    }
  )");
  const Problem p({.batch = 1, .heads = 1, .kv_heads = 1, .q_len = 6, .kv_len = 7}, 16, 16, 23);
  const auto div = [](std::int64_t a, std::int64_t b) { return b == 0 ? 0 : a / b; };
  const auto rem = [](std::int64_t a, std::int64_t b) { return b == 0 ? 0 : a % b; };
  const auto logit = [&](const Position& pos, double s) {
    return s + static_cast<double>(div(pos.k, pos.q - 2)) +
           static_cast<double>(rem(pos.k, pos.q - 3));
  };
  expect_matches(reference_attention(variant, p.inputs()),
                 naive_attention(p, variant.scale(), no_mask, logit));
}

}  // namespace
}  // namespace attnjit
