#include "reference/attention_row.hpp"
#include "reference/hyper_reference.hpp"
#include "reference/inputs_check.hpp"
#include "reference/interpreter.hpp"
#include "reference/parallel_slices.hpp"
#include <attnjit/reference.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <vector>

namespace attnjit {
namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

double dot(const double* x, const double* y, std::int64_t n) {
  double sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

// Softmax of `logits` applied to the rows of `v` (row-major, `out.size()`
// wide), written to `out`; returns the log-sum-exp. A fully masked row (every
// logit -inf) keeps out = 0 and gives -inf, where the formula would give NaN.
double softmax_combine(std::span<const double> logits, const double* v, std::span<double> out) {
  const auto width = static_cast<std::ptrdiff_t>(out.size());
  // Written so that a NaN logit becomes the maximum and poisons the row rather than vanishing.
  double max = kMinusInf;
  for (const double logit : logits) {
    if (!(logit <= max)) max = logit;
  }
  if (max == kMinusInf) return kMinusInf;
  double sum = 0;
  for (std::size_t k = 0; k < logits.size(); ++k) {
    if (logits[k] == kMinusInf) continue;
    const double weight = std::exp(logits[k] - max);
    sum += weight;
    const double* v_row = v + static_cast<std::ptrdiff_t>(k) * width;
    for (std::ptrdiff_t j = 0; j < width; ++j) out[j] += weight * v_row[j];
  }
  for (double& value : out) value /= sum;
  return max + std::log(sum);
}

}  // namespace

namespace reference {

Point shape_point(const AttentionShape& shape) {
  Point point;
  point.batch = shape.batch;
  point.heads = shape.heads;
  point.kv_heads = shape.kv_heads;
  point.q_len = shape.q_len;
  point.kv_len = shape.kv_len;
  return point;
}

double attention_row(const Variant& variant, const ReferenceInputs& inputs,
                     const Bindings& bindings, Point point, std::span<double> logits,
                     std::span<double> out) {
  const std::int64_t head_dim = variant.head_dim();
  const std::int64_t head_dim_v = variant.head_dim_v();
  const double scale = variant.scale();
  point.hkv = point.h / (point.heads / point.kv_heads);
  point.kv_len = entry_kv_len(inputs, point.b);
  // K and V hold shape.kv_len rows per head whatever the entry's own length.
  const std::int64_t kv_head = (point.b * point.kv_heads + point.hkv) * inputs.shape.kv_len;
  const double* k_head = inputs.k.data() + kv_head * head_dim;
  const double* v_head = inputs.v.data() + kv_head * head_dim_v;
  const std::int64_t row = (point.b * point.heads + point.h) * point.q_len + point.q;
  const double* q_row = inputs.q.data() + row * head_dim;
  for (point.k = 0; point.k < point.kv_len; ++point.k) {
    double& logit = logits[static_cast<std::size_t>(point.k)];
    if (!mask_holds(variant.mask(), point, bindings)) {
      logit = kMinusInf;
      continue;
    }
    point.score = scale * dot(q_row, k_head + point.k * head_dim, head_dim);
    logit = evaluate(*variant.score(), point, bindings).f;
  }
  return softmax_combine(logits.first(static_cast<std::size_t>(point.kv_len)), v_head, out);
}

}  // namespace reference

ReferenceOutput reference_attention(const Variant& variant, const ReferenceInputs& inputs) {
  const reference::Bindings bindings = reference::check_inputs(variant, inputs);
  const AttentionShape& shape = inputs.shape;
  const auto head_dim_v = static_cast<std::size_t>(variant.head_dim_v());

  ReferenceOutput result;
  const auto rows = static_cast<std::size_t>(shape.batch * shape.heads * shape.q_len);
  result.out.assign(rows * head_dim_v, 0.0);
  result.lse.assign(rows, kMinusInf);
  if (reference::hyper_approximates(variant, inputs)) {
    const auto q_len = static_cast<std::size_t>(shape.q_len);
    reference::parallel_slices(
        shape.batch * shape.heads, 1, [&](std::int64_t begin, std::int64_t end) {
          for (std::int64_t plane = begin; plane < end; ++plane) {
            const std::size_t first = static_cast<std::size_t>(plane) * q_len;
            reference::hyper_plane(
                variant, inputs, plane / shape.heads, plane % shape.heads,
                std::span(result.out).subspan(first * head_dim_v, q_len * head_dim_v),
                std::span(result.lse).subspan(first, q_len));
          }
        });
    return result;
  }
  // Rows are laid out in (b, h, q) order; each slice of them needs its own logits.
  reference::parallel_slices(
      static_cast<std::int64_t>(rows), reference::kRowsASlice,
      [&](std::int64_t begin, std::int64_t end) {
        std::vector<double> logits(static_cast<std::size_t>(shape.kv_len));
        reference::Point point = reference::shape_point(shape);
        for (std::int64_t row = begin; row < end; ++row) {
          point.q = row % shape.q_len;
          point.h = row / shape.q_len % shape.heads;
          point.b = row / shape.q_len / shape.heads;
          const auto at = static_cast<std::size_t>(row);
          const std::span<double> out(result.out.data() + at * head_dim_v, head_dim_v);
          result.lse[at] = reference::attention_row(variant, inputs, bindings, point, logits, out);
        }
      });
  return result;
}

}  // namespace attnjit
