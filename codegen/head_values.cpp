#include "codegen/head_values.hpp"

#include "codegen/expr_weight.hpp"

#include <map>
#include <vector>

#include <fmt/format.h>

namespace attnjit::codegen {
namespace {

bool per_element(const ir::ExprPtr& expr) {
  return uses_builtin(expr, ir::Builtin::Q) || uses_builtin(expr, ir::Builtin::K) ||
         uses_builtin(expr, ir::Builtin::Causal) || uses_builtin(expr, ir::Builtin::Score);
}

void collect(const ir::ExprPtr& expr, std::vector<ir::ExprPtr>& out) {
  if (!reads_tensors(expr)) return;
  if (!per_element(expr)) {
    out.push_back(expr);
    return;
  }
  for_each_child(expr, [&](const ir::ExprPtr& child) { collect(child, out); });
}

}  // namespace

HeadValues head_values(const Variant& variant, const std::optional<ir::ExprPtr>& bias) {
  std::vector<ir::ExprPtr> reads;
  collect(variant.score(), reads);
  if (bias) collect(*bias, reads);
  HeadValues out;
  std::map<std::string, std::string> fields;  // device code -> field
  for (const ir::ExprPtr& expr : reads) {
    const std::string code = device_expr(expr, variant);
    const auto [at, added] = fields.try_emplace(code, fmt::format("hv{}", fields.size()));
    out.named.emplace(expr.get(), "p." + at->second);
    if (!added) continue;
    out.fields += fmt::format("    {} {};\n", c_type(expr->type()), at->second);
    out.assignments += fmt::format("    p.{} = {};\n", at->second, code);
  }
  return out;
}

}  // namespace attnjit::codegen
