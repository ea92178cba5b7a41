#include "language/hyper_plan.hpp"

#include <attnjit/error.hpp>
#include <attnjit/language.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace attnjit {
namespace {

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

HyperLevel level(const HyperApprox& hyper, std::int64_t q_rows, std::int64_t k_rows) {
  HyperLevel out;
  out.q_rows = q_rows;
  out.k_rows = k_rows;
  out.block = hyper.block;
  out.q_block = ceil_div(q_rows, ceil_div(k_rows, hyper.block));
  out.samples = hyper.samples;
  return out;
}

}  // namespace

double HyperLevel::log_weight() const {
  return samples > 0 ? std::log(static_cast<double>(k_rows) / static_cast<double>(samples)) : 0.0;
}

HyperPlan hyper_plan(const HyperApprox& hyper, bool causal, std::int64_t q_len,
                     std::int64_t kv_len) {
  HyperPlan plan;
  plan.valid_rows = q_len;
  if (!causal) {
    if (q_len < hyper.min_seq) {
      plan.exact_chunk = std::max(q_len, kv_len);
    } else {
      plan.levels.push_back(level(hyper, q_len, kv_len));
    }
    return plan;
  }
  if (q_len <= hyper.min_seq) {
    plan.exact_chunk = std::max(q_len, kv_len);
    return plan;
  }
  if (q_len != kv_len) {
    throw InputError(fmt::format(
        "approx hyper with a causal mask needs q_len == kv_len past min_seq ({}), got {} and {}",
        hyper.min_seq, q_len, kv_len));
  }
  int deepest = 0;
  while (ceil_div(q_len, std::int64_t{1} << (deepest + 1)) >= hyper.min_seq) ++deepest;
  const std::int64_t last = ceil_div(q_len, std::int64_t{1} << deepest);
  plan.exact_chunk = last;
  for (int d = 1; d <= deepest; ++d) {
    const std::int64_t rows = last << (deepest - d);
    HyperLevel out = level(hyper, rows, rows);
    out.segments = std::int64_t{1} << (d - 1);
    out.q_first = rows;
    out.k_first = 0;
    out.step = 2 * rows;
    plan.levels.push_back(out);
  }
  return plan;
}

bool hyper_is_causal(const Variant& variant) { return !variant.mask().empty(); }

Variant exact_of(const Variant& variant) {
  std::string statements;
  const std::string& canonical = variant.canonical();
  for (std::size_t at = 0; at < canonical.size();) {
    const std::size_t end = canonical.find('\n', at);
    const std::string line = canonical.substr(at, end - at);
    if (line.rfind("approx ", 0) != 0 && line.rfind("quant ", 0) != 0) statements += line + "\n";
    at = end == std::string::npos ? canonical.size() : end + 1;
  }
  ParseResult parsed = parse_variants(
      fmt::format("variant {}_exact {{\n{}}}\n", variant.name(), statements), "exact.attn");
  if (!parsed.ok()) {
    throw std::logic_error("a canonical form without approx or quant does not parse:\n" +
                           parsed.errors.front().render());
  }
  return std::move(parsed.variants.front());
}

}  // namespace attnjit
