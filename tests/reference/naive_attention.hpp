// Test support: random inputs and a naive attention written straight from the
// formulas of LANGUAGE.md, with the mask and the logit given as C++ lambdas,
// so that the reference is checked against code that shares nothing with its
// interpreter.
#pragma once

#include <attnjit/language.hpp>
#include <attnjit/reference.hpp>
#include <attnjit/variant.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit::reftest {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

// Parses a source holding one variant; a diagnostic fails the test with its text.
inline Variant parse_one(std::string_view source) {
  ParseResult result = parse_variants(source, "test.attn");
  if (!result.ok()) {
    std::string text;
    for (const Diagnostic& error : result.errors) text += error.render() + "\n";
    throw std::runtime_error("test variant does not parse:\n" + text);
  }
  if (result.variants.size() != 1) throw std::runtime_error("expected exactly one variant");
  return std::move(result.variants.front());
}

inline std::vector<double> random_normal(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<double> values(count);
  for (double& value : values) value = normal(rng);
  return values;
}

// Q, K and V for one shape, owned here so that ReferenceInputs can view them.
struct Problem {
  AttentionShape shape;
  int head_dim = 0;
  int head_dim_v = 0;
  std::vector<double> q;
  std::vector<double> k;
  std::vector<double> v;

  Problem(AttentionShape shape_in, int head_dim_in, int head_dim_v_in, unsigned seed)
      : shape(shape_in), head_dim(head_dim_in), head_dim_v(head_dim_v_in) {
    const auto rows_q = static_cast<std::size_t>(shape.batch * shape.heads * shape.q_len);
    const auto rows_kv = static_cast<std::size_t>(shape.batch * shape.kv_heads * shape.kv_len);
    q = random_normal(rows_q * static_cast<std::size_t>(head_dim), seed);
    k = random_normal(rows_kv * static_cast<std::size_t>(head_dim), seed + 1);
    v = random_normal(rows_kv * static_cast<std::size_t>(head_dim_v), seed + 2);
  }

  [[nodiscard]] ReferenceInputs inputs() const {
    ReferenceInputs in;
    in.shape = shape;
    in.q = q;
    in.k = k;
    in.v = v;
    return in;
  }
};

struct Position {
  std::int64_t b = 0;
  std::int64_t h = 0;
  std::int64_t hkv = 0;
  std::int64_t q = 0;
  std::int64_t k = 0;
};

using MaskFn = std::function<bool(const Position&)>;
using LogitFn = std::function<double(const Position&, double score)>;

inline bool no_mask(const Position& /*p*/) { return true; }
inline double plain_score(const Position& /*p*/, double score) { return score; }

// O = sum_k exp(logit - LSE) V, LSE = log(sum_k exp(logit)); no max shift, so
// its rounding differs from the reference's and the agreement means something.
inline ReferenceOutput naive_attention(const Problem& p, double scale, const MaskFn& mask,
                                       const LogitFn& logit) {
  const AttentionShape& s = p.shape;
  const std::int64_t d = p.head_dim;
  const std::int64_t dv = p.head_dim_v;
  ReferenceOutput result;
  result.out.assign(static_cast<std::size_t>(s.batch * s.heads * s.q_len * dv), 0.0);
  result.lse.assign(static_cast<std::size_t>(s.batch * s.heads * s.q_len), -kInf);
  for (std::int64_t b = 0; b < s.batch; ++b) {
    for (std::int64_t h = 0; h < s.heads; ++h) {
      const std::int64_t hkv = h / (s.heads / s.kv_heads);
      for (std::int64_t q = 0; q < s.q_len; ++q) {
        const std::int64_t row = (b * s.heads + h) * s.q_len + q;
        std::vector<double> logits(static_cast<std::size_t>(s.kv_len), -kInf);
        bool any = false;
        for (std::int64_t k = 0; k < s.kv_len; ++k) {
          const Position pos{b, h, hkv, q, k};
          if (!mask(pos)) continue;
          double dot = 0;
          for (std::int64_t i = 0; i < d; ++i) {
            dot += p.q[static_cast<std::size_t>(row * d + i)] *
                   p.k[static_cast<std::size_t>(((b * s.kv_heads + hkv) * s.kv_len + k) * d + i)];
          }
          logits[static_cast<std::size_t>(k)] = logit(pos, scale * dot);
          any = true;
        }
        if (!any) continue;
        double total = 0;
        for (const double l : logits) total += std::exp(l);
        const double lse = std::log(total);
        result.lse[static_cast<std::size_t>(row)] = lse;
        for (std::int64_t k = 0; k < s.kv_len; ++k) {
          const double weight = std::exp(logits[static_cast<std::size_t>(k)] - lse);
          for (std::int64_t j = 0; j < dv; ++j) {
            result.out[static_cast<std::size_t>(row * dv + j)] +=
                weight *
                p.v[static_cast<std::size_t>(((b * s.kv_heads + hkv) * s.kv_len + k) * dv + j)];
          }
        }
      }
    }
  }
  return result;
}

// Relative agreement to ~1e-12; infinities must match exactly. Reports only
// the first few mismatches so that a wrong kernel does not flood the log.
inline ::testing::AssertionResult all_close(const std::vector<double>& got,
                                            const std::vector<double>& want) {
  if (got.size() != want.size()) {
    return ::testing::AssertionFailure() << "size " << got.size() << " != " << want.size();
  }
  int failures = 0;
  ::testing::AssertionResult result = ::testing::AssertionSuccess();
  for (std::size_t i = 0; i < got.size(); ++i) {
    const bool ok = std::isinf(want[i])
                        ? got[i] == want[i]
                        : std::abs(got[i] - want[i]) <= 1e-12 * std::max(1.0, std::abs(want[i]));
    if (ok) continue;
    if (failures == 0) result = ::testing::AssertionFailure();
    if (++failures <= 5) result << "[" << i << "] got " << got[i] << ", want " << want[i] << "; ";
  }
  if (failures > 5) result << failures << " mismatches in all";
  return result;
}

inline void expect_matches(const ReferenceOutput& got, const ReferenceOutput& want) {
  EXPECT_TRUE(all_close(got.out, want.out)) << "in O";
  EXPECT_TRUE(all_close(got.lse, want.lse)) << "in LSE";
}

// The last key row that query row q sees under `causal`.
inline std::int64_t last_key(const AttentionShape& s, std::int64_t q) {
  return q + s.kv_len - s.q_len;
}

}  // namespace attnjit::reftest
