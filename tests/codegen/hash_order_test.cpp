// The sorted form of a `sparsity hash` variant, run by the CPU reference on
// rows gathered in bucket order and scattered back, computes what the variant
// computes on the rows in place: what the GPU pipeline relies on.
#include "codegen/hash_order.hpp"

#include "harness/host_problem.hpp"
#include <attnjit/error.hpp>
#include <attnjit/language.hpp>
#include <attnjit/reference.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

Variant parse_one(const std::string& text) {
  ParseResult result = parse_variants(text, "test.attn");
  EXPECT_TRUE(result.ok());
  return result.variants.at(0);
}

// order[plane][r]: the original row of sorted row r (a stable sort by bucket).
std::vector<std::int64_t> stable_order(const HostTensor& bucket) {
  const std::int64_t planes = bucket.shape[0] * bucket.shape[1], rows = bucket.shape[2];
  std::vector<std::int64_t> order(planes * rows);
  for (std::int64_t p = 0; p < planes; ++p) {
    const auto first = order.begin() + p * rows;
    std::iota(first, first + rows, 0);
    std::stable_sort(first, first + rows, [&](std::int64_t x, std::int64_t y) {
      return bucket.data[p * rows + x] < bucket.data[p * rows + y];
    });
  }
  return order;
}

// Rows of `width` values: out[plane, r] = in[plane, order[plane, r]].
std::vector<double> gather(const std::vector<double>& in, const std::vector<std::int64_t>& order,
                           std::int64_t rows, std::int64_t width) {
  std::vector<double> out(in.size());
  for (std::size_t row = 0; row < order.size(); ++row) {
    const std::int64_t plane = static_cast<std::int64_t>(row) / rows;
    const std::int64_t from = plane * rows + order[row];
    std::copy_n(in.begin() + from * width, width,
                out.begin() + static_cast<std::int64_t>(row) * width);
  }
  return out;
}

HostTensor as_tensor(std::vector<double> values, const std::vector<std::int64_t>& shape) {
  return HostTensor{shape, std::move(values)};
}

TEST(HashOrder, SortedFormOnGatheredRowsMatchesTheVariant) {
  const Variant variant = parse_one(
      "variant h { dtype bf16; head_dim 64; sparsity hash(buckets=3); param w: i32 = 9;"
      " tensor slope: f32[heads]; mask causal && q - k < w;"
      " score score + slope[h] * (k - q); }");
  const Variant sorted = codegen::hash_sorted_variant(variant);
  ASSERT_NE(sorted.find_tensor("q_order"), nullptr);
  ASSERT_NE(sorted.find_tensor("k_order"), nullptr);
  EXPECT_FALSE(sorted.hash_sparsity().has_value());

  const AttentionShape shape{2, 4, 2, 23, 31};
  const harness::HostProblem host = harness::random_problem(variant, shape, {7, true, {}, false});
  const ReferenceOutput want = reference_attention(variant, host.reference_inputs());

  const HostTensor& qb = host.tensors.at("q_bucket");
  const HostTensor& kb = host.tensors.at("k_bucket");
  const std::vector<std::int64_t> q_order = stable_order(qb);
  const std::vector<std::int64_t> k_order = stable_order(kb);
  const std::int64_t d = variant.head_dim();
  const std::vector<double> q = gather(host.q, q_order, shape.q_len, d);
  const std::vector<double> k = gather(host.k, k_order, shape.kv_len, d);
  const std::vector<double> v = gather(host.v, k_order, shape.kv_len, d);
  ReferenceInputs inputs;
  inputs.shape = shape;
  inputs.q = q;
  inputs.k = k;
  inputs.v = v;
  inputs.params = host.params;
  inputs.tensors = host.tensors;
  inputs.tensors["q_bucket"] = as_tensor(gather(qb.data, q_order, shape.q_len, 1), qb.shape);
  inputs.tensors["k_bucket"] = as_tensor(gather(kb.data, k_order, shape.kv_len, 1), kb.shape);
  inputs.tensors["q_order"] =
      as_tensor(std::vector<double>(q_order.begin(), q_order.end()), qb.shape);
  inputs.tensors["k_order"] =
      as_tensor(std::vector<double>(k_order.begin(), k_order.end()), kb.shape);
  const ReferenceOutput got = reference_attention(sorted, inputs);

  for (std::size_t row = 0; row < q_order.size(); ++row) {
    const std::int64_t plane = static_cast<std::int64_t>(row) / shape.q_len;
    const std::int64_t original = plane * shape.q_len + q_order[row];
    if (std::isinf(want.lse[original])) {
      EXPECT_EQ(got.lse[row], want.lse[original]) << row;
    } else {
      EXPECT_NEAR(got.lse[row], want.lse[original], 1e-12) << row;
    }
    for (std::int64_t c = 0; c < d; ++c) {
      EXPECT_NEAR(got.out[row * d + c], want.out[original * d + c], 1e-12) << row << " " << c;
    }
  }
}

TEST(HashOrder, OnlyHashVariantsHaveASortedForm) {
  EXPECT_THROW(static_cast<void>(codegen::hash_sorted_variant(
                   parse_one("variant c { dtype bf16; head_dim 64; mask causal; }"))),
               SpecError);
}

}  // namespace
}  // namespace attnjit
