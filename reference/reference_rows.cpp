#include "reference/attention_row.hpp"
#include "reference/hyper_reference.hpp"
#include "reference/inputs_check.hpp"
#include "reference/interpreter.hpp"
#include "reference/parallel_slices.hpp"
#include <attnjit/error.hpp>
#include <attnjit/reference.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <span>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace attnjit {
namespace {

void check_row(std::size_t i, const RowIndex& row, const AttentionShape& shape) {
  const bool inside = row.batch >= 0 && row.batch < shape.batch && row.head >= 0 &&
                      row.head < shape.heads && row.q >= 0 && row.q < shape.q_len;
  if (!inside) {
    throw InputError(fmt::format(
        "row {} is (batch {}, head {}, q {}), outside the shape (batch {}, heads {}, q_len {})", i,
        row.batch, row.head, row.q, shape.batch, shape.heads, shape.q_len));
  }
}

// Uniform in [0, bound), bound > 0. mt19937_64's stream is fixed by the
// standard but uniform_int_distribution's use of it is not, so the rejection
// is done here to keep a seed's sample the same on every standard library.
std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t bound) {
  // 2^64 mod bound: the low draws that would make the smaller residues likelier.
  const std::uint64_t skewed = (0 - bound) % bound;
  std::uint64_t draw = rng();
  while (draw < skewed) draw = rng();
  return draw % bound;
}

RowIndex row_at(const AttentionShape& shape, std::int64_t flat) {
  const std::int64_t head_row = flat / shape.q_len;
  return {head_row / shape.heads, head_row % shape.heads, flat % shape.q_len};
}

// approx hyper computes whole planes (sorts, draws); each plane once.
std::vector<RowOutput> hyper_rows(const Variant& variant, const ReferenceInputs& inputs,
                                  std::span<const RowIndex> rows) {
  const AttentionShape& shape = inputs.shape;
  const auto q_len = static_cast<std::size_t>(shape.q_len);
  const auto dv = static_cast<std::size_t>(variant.head_dim_v());
  std::map<std::pair<std::int64_t, std::int64_t>,
           std::pair<std::vector<double>, std::vector<double>>>
      planes;
  std::vector<RowOutput> result;
  result.reserve(rows.size());
  for (const RowIndex& row : rows) {
    auto [at, fresh] = planes.try_emplace({row.batch, row.head});
    auto& [out, lse] = at->second;
    if (fresh) {
      out.resize(q_len * dv);
      lse.resize(q_len);
      reference::hyper_plane(variant, inputs, row.batch, row.head, out, lse);
    }
    const auto q = static_cast<std::size_t>(row.q);
    RowOutput& output = result.emplace_back();
    output.out.assign(out.begin() + static_cast<std::ptrdiff_t>(q * dv),
                      out.begin() + static_cast<std::ptrdiff_t>((q + 1) * dv));
    output.lse = lse[q];
  }
  return result;
}

}  // namespace

std::vector<RowOutput> reference_rows(const Variant& variant, const ReferenceInputs& inputs,
                                      std::span<const RowIndex> rows) {
  const reference::Bindings bindings = reference::check_inputs(variant, inputs);
  const AttentionShape& shape = inputs.shape;
  // All rows are checked first so that a bad one costs no computation.
  for (std::size_t i = 0; i < rows.size(); ++i) check_row(i, rows[i], shape);

  if (reference::hyper_approximates(variant, inputs)) return hyper_rows(variant, inputs, rows);
  std::vector<RowOutput> result(rows.size());
  // A sample (the tuner's check rows) is far fewer rows than a whole
  // problem, each over every key: smaller slices, so that it still spreads.
  reference::parallel_slices(
      static_cast<std::int64_t>(rows.size()), reference::kRowsASlice / 4,
      [&](std::int64_t begin, std::int64_t end) {
        std::vector<double> logits(static_cast<std::size_t>(shape.kv_len));
        reference::Point point = reference::shape_point(shape);
        for (auto i = static_cast<std::size_t>(begin); i < static_cast<std::size_t>(end); ++i) {
          point.b = rows[i].batch;
          point.h = rows[i].head;
          point.q = rows[i].q;
          RowOutput& output = result[i];
          output.out.assign(static_cast<std::size_t>(variant.head_dim_v()), 0.0);
          output.lse =
              reference::attention_row(variant, inputs, bindings, point, logits, output.out);
        }
      });
  return result;
}

std::vector<RowIndex> sample_rows(const AttentionShape& shape, std::size_t count,
                                  std::uint64_t seed) {
  if (shape.batch <= 0 || shape.heads <= 0 || shape.q_len <= 0 || count == 0) return {};
  std::int64_t heads_total = 0;
  std::int64_t total = 0;
  if (__builtin_mul_overflow(shape.batch, shape.heads, &heads_total) ||
      __builtin_mul_overflow(heads_total, shape.q_len, &total)) {
    throw InputError(fmt::format("the shape has too many rows to sample: {} x {} x {}", shape.batch,
                                 shape.heads, shape.q_len));
  }
  std::vector<RowIndex> sample;
  if (count >= static_cast<std::uint64_t>(total)) {
    sample.reserve(static_cast<std::size_t>(total));
    for (std::int64_t flat = 0; flat < total; ++flat) sample.push_back(row_at(shape, flat));
    return sample;
  }

  std::mt19937_64 rng(seed);
  std::set<std::int64_t> chosen;  // flat row indices, ordered as the result is
  const auto first =
      static_cast<std::int64_t>(draw_below(rng, static_cast<std::uint64_t>(heads_total))) *
      shape.q_len;
  const std::int64_t last = first + shape.q_len - 1;
  chosen.insert(first);
  if (count > 1) chosen.insert(last);

  // Floyd's algorithm draws the rest from the rows not yet chosen, numbered
  // 0..free_rows-1 and mapped past the forced ones, in O(count) draws.
  const auto forced = static_cast<std::int64_t>(chosen.size());
  const std::int64_t free_rows = total - forced;
  const std::int64_t wanted = static_cast<std::int64_t>(count) - forced;
  const auto to_row = [&](std::int64_t index) {
    if (index >= first) ++index;
    if (forced == 2 && index >= last) ++index;
    return index;
  };
  std::set<std::int64_t> drawn;
  for (std::int64_t j = free_rows - wanted; j < free_rows; ++j) {
    const auto pick = static_cast<std::int64_t>(draw_below(rng, static_cast<std::uint64_t>(j) + 1));
    drawn.insert(drawn.contains(pick) ? j : pick);
  }
  for (const std::int64_t index : drawn) chosen.insert(to_row(index));

  sample.reserve(chosen.size());
  for (const std::int64_t flat : chosen) sample.push_back(row_at(shape, flat));
  return sample;
}

}  // namespace attnjit
