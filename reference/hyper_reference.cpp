#include "reference/hyper_reference.hpp"

#include "language/hyper_plan.hpp"
#include "templates/attnjit/hyper.cuh"
#include <attnjit/error.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include <fmt/format.h>

namespace attnjit::reference {
namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

// Rows of one (batch, head) of a [batch, heads, rows, width] tensor.
struct Rows {
  const double* data;
  std::int64_t count, width;
  [[nodiscard]] const double* row(std::int64_t r) const { return data + r * width; }
};

Rows plane_rows(std::span<const double> x, std::int64_t b, std::int64_t h, std::int64_t heads,
                std::int64_t count, std::int64_t width) {
  return {x.data() + ((b * heads + h) * count) * width, count, width};
}

double dot(const double* x, const double* y, std::int64_t n) {
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

std::vector<int> codes(const Rows& x, int bits) {
  std::vector<int> out(static_cast<std::size_t>(x.count));
  for (std::int64_t r = 0; r < x.count; ++r) {
    unsigned word = 0;
    for (int bit = 0; bit < bits; ++bit) {
      double sum = 0;
      for (std::int64_t c = 0; c < x.width; ++c) {
        sum += aj::lsh_sign(bit, static_cast<int>(c)) * x.row(r)[c];
      }
      if (sum > 0) word |= 1U << bit;
    }
    out[static_cast<std::size_t>(r)] = aj::gray_rank(word);
  }
  return out;
}

// A segment's rows (first .. first + rows - 1) sorted stably by code, padding last.
std::vector<std::int64_t> sorted_rows(const std::vector<int>& code, std::int64_t first,
                                      std::int64_t rows, std::int64_t valid, int overflow) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(rows));
  std::iota(order.begin(), order.end(), first);
  const auto key = [&](std::int64_t r) { return r < valid ? code[r] : overflow; };
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int64_t x, std::int64_t y) { return key(x) < key(y); });
  return order;
}

// Softmax of logits over value rows, merged by log-sum-exp into (out, lse).
void merge(const std::vector<double>& logits, const std::vector<const double*>& values,
           std::span<double> out, double& lse) {
  double top = lse;
  for (const double l : logits) top = std::max(top, l);
  if (top == kMinusInf) return;
  const double mine = lse == kMinusInf ? 0.0 : std::exp(lse - top);
  double total = mine;
  std::vector<double> mixed(out.size());
  for (std::size_t c = 0; c < out.size(); ++c) mixed[c] = mine * out[c];
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double w = std::exp(logits[i] - top);
    total += w;
    for (std::size_t c = 0; c < out.size(); ++c) mixed[c] += w * values[i][c];
  }
  for (std::size_t c = 0; c < out.size(); ++c) out[c] = mixed[c] / total;
  lse = top + std::log(total);
}

}  // namespace

bool hyper_approximates(const Variant& variant, const ReferenceInputs& inputs) {
  if (!variant.hyper()) return false;
  const AttentionShape& s = inputs.shape;
  if (hyper_plan(*variant.hyper(), hyper_is_causal(variant), s.q_len, s.kv_len).levels.empty()) {
    return false;
  }
  if (!inputs.kv_lens.empty()) {
    throw InputError(fmt::format("variant '{}': approx hyper takes no ragged batch past min_seq",
                                 variant.name()));
  }
  return true;
}

void hyper_plane(const Variant& variant, const ReferenceInputs& inputs, std::int64_t b,
                 std::int64_t h, std::span<double> out, std::span<double> lse) {
  const HyperApprox& hyper = *variant.hyper();
  const AttentionShape& s = inputs.shape;
  const std::int64_t d = variant.head_dim();
  const std::int64_t dv = variant.head_dim_v();
  const std::int64_t hkv = h / (s.heads / s.kv_heads);
  const bool causal = hyper_is_causal(variant);
  const HyperPlan plan = hyper_plan(hyper, causal, s.q_len, s.kv_len);
  const Rows q = plane_rows(inputs.q, b, h, s.heads, s.q_len, d);
  const Rows k = plane_rows(inputs.k, b, hkv, s.kv_heads, s.kv_len, d);
  const Rows v = plane_rows(inputs.v, b, hkv, s.kv_heads, s.kv_len, dv);
  const double scale = variant.scale();
  std::fill(out.begin(), out.end(), 0.0);
  std::fill(lse.begin(), lse.end(), kMinusInf);
  const auto row_out = [&](std::int64_t i) {
    return out.subspan(static_cast<std::size_t>(i * dv), static_cast<std::size_t>(dv));
  };
  std::vector<double> logits;
  std::vector<const double*> values;

  if (plan.exact_chunk > 0) {
    const std::int64_t chunk = plan.exact_chunk;
    for (std::int64_t i = 0; i < s.q_len; ++i) {
      logits.clear();
      values.clear();
      for (std::int64_t j = 0; j < s.kv_len; ++j) {
        if (i / chunk != j / chunk || (causal && i + s.kv_len - s.q_len < j)) continue;
        logits.push_back(scale * dot(q.row(i), k.row(j), d));
        values.push_back(v.row(j));
      }
      merge(logits, values, row_out(i), lse[static_cast<std::size_t>(i)]);
    }
  }
  if (plan.levels.empty()) return;

  const std::vector<int> q_code = codes(q, hyper.lsh_bits);
  const std::vector<int> k_code = codes(k, hyper.lsh_bits);
  const int overflow = 1 << hyper.lsh_bits;
  for (std::size_t index = 0; index < plan.levels.size(); ++index) {
    const HyperLevel& level = plan.levels[index];
    const double log_weight = level.log_weight();
    for (std::int64_t j = 0; j < level.segments; ++j) {
      const std::vector<std::int64_t> q_order =
          sorted_rows(q_code, level.q_first + j * level.step, level.q_rows, s.q_len, overflow);
      const std::vector<std::int64_t> k_order =
          sorted_rows(k_code, level.k_first + j * level.step, level.k_rows, s.kv_len, overflow);
      // Planes go (batch, segment, head), as on the GPU.
      const auto plane = static_cast<unsigned>((b * level.segments + j) * s.kv_heads + hkv);
      std::vector<std::int64_t> drawn(static_cast<std::size_t>(level.samples));
      for (std::int64_t m = 0; m < level.samples; ++m) {
        drawn[static_cast<std::size_t>(m)] =
            aj::hyper_draw(static_cast<unsigned>(index + 1), plane, static_cast<unsigned>(m),
                           static_cast<int>(level.k_rows));
      }
      for (std::int64_t r = 0; r < level.q_rows; ++r) {
        const std::int64_t i = q_order[static_cast<std::size_t>(r)];
        if (i >= s.q_len) continue;
        const std::int64_t block = r / level.q_block;
        logits.clear();
        values.clear();
        for (std::int64_t c = block * level.block;
             c < std::min(level.k_rows, (block + 1) * level.block); ++c) {
          const std::int64_t key = k_order[static_cast<std::size_t>(c)];
          logits.push_back(scale * dot(q.row(i), k.row(key), d));
          values.push_back(v.row(key));
        }
        for (const std::int64_t c : drawn) {
          if (c / level.block == block) continue;
          const std::int64_t key = k_order[static_cast<std::size_t>(c)];
          logits.push_back(scale * dot(q.row(i), k.row(key), d) + log_weight);
          values.push_back(v.row(key));
        }
        merge(logits, values, row_out(i), lse[static_cast<std::size_t>(i)]);
      }
    }
  }
}

}  // namespace attnjit::reference
