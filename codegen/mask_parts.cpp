#include "codegen/mask_parts.hpp"

#include "codegen/device_expr.hpp"
#include "codegen/expr_weight.hpp"
#include "codegen/int_range.hpp"

#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

namespace attnjit::codegen {
namespace {

bool reads_key(const ir::ExprPtr& expr) {
  return uses_builtin(expr, ir::Builtin::K) || uses_builtin(expr, ir::Builtin::Causal);
}
// The decode family packs rows of several query heads into one tile, so a
// part that names the head belongs to the row, not to the key.
bool reads_row(const ir::ExprPtr& expr) {
  return uses_builtin(expr, ir::Builtin::Q) || uses_builtin(expr, ir::Builtin::Causal) ||
         uses_builtin(expr, ir::Builtin::H);
}

// The largest heavy subexpressions of one side only, outermost first: those
// that read tensors per element and, where `divisions` (a mask with such
// reads, which has parts anyway), divisions by run-time values too, so that
// a mask of the form `q / m == k / n` joins its parts with a comparison. In
// a mask without tensors divisions stay per element: in the sm_80 family
// they can be calls, and more call sites made ptxas take seconds longer.
void collect(const ir::ExprPtr& expr, bool divisions, std::vector<ir::ExprPtr>& row,
             std::vector<ir::ExprPtr>& col) {
  const bool heavy =
      reads_tensors(expr) ? heavy_code(expr) : divisions && divides_by_variable(expr);
  if (!heavy) return;
  if (!reads_key(expr)) {
    row.push_back(expr);
    return;
  }
  if (!reads_row(expr)) {
    col.push_back(expr);
    return;
  }
  for_each_child(expr, [&](const ir::ExprPtr& child) { collect(child, divisions, row, col); });
}

// A part's struct fields and its values, each part named `prefix.v<i>`.
struct Part {
  std::string fields;
  std::string values;
};
// Subexpressions spelled alike (q / m, twice) share a field.
Part name_part(const std::vector<ir::ExprPtr>& exprs, const std::string& prefix,
               const Variant& variant, NamedExprs& named) {
  Part part;
  std::map<std::string, std::string> fields;  // device code -> field
  for (const ir::ExprPtr& expr : exprs) {
    const std::string code = device_expr(expr, variant);
    auto [at, added] = fields.try_emplace(code, fmt::format("{}.v{}", prefix, fields.size()));
    named.emplace(expr.get(), at->second);
    if (!added) continue;
    // An int part that fits 32 bits is kept (and shuffled between lanes) in 32.
    const bool narrow = expr->type() == ir::Type::Int && fits_int32(expr, variant);
    part.fields +=
        fmt::format("    {} v{};\n", narrow ? "int" : c_type(expr->type()), fields.size() - 1);
    part.values += (fields.size() == 1 ? "" : ", ") + code;
  }
  return part;
}

}  // namespace

std::string mask_parts_members(const Variant& variant) {
  const ir::ExprPtr mask = variant.mask_expr();
  std::vector<ir::ExprPtr> row;
  std::vector<ir::ExprPtr> col;
  if (!variant.mask().empty()) collect(mask, reads_tensors(mask), row, col);
  NamedExprs named;
  const Part row_part = name_part(row, "r", variant, named);
  const Part col_part = name_part(col, "c", variant, named);
  std::set<const ir::Expr*> computed;
  for (const auto& entry : named) computed.insert(entry.first);
  return fmt::format(
      "  static constexpr bool kMaskParts = {any};\n"
      "  static constexpr bool kLightParts = {light};\n"
      "  struct RowPart {{\n{row_fields}  }};\n"
      "  struct ColPart {{\n{col_fields}  }};\n"
      "  static AJ_HD RowPart row_part([[maybe_unused]] const Params& p,\n"
      "                                [[maybe_unused]] const aj::Index& ix) {{\n"
      "    return {{{row_values}}};\n"
      "  }}\n"
      "  static AJ_HD ColPart col_part([[maybe_unused]] const Params& p,\n"
      "                                [[maybe_unused]] const aj::Index& ix) {{\n"
      "    return {{{col_values}}};\n"
      "  }}\n"
      "  static AJ_HD bool mask_of_parts([[maybe_unused]] const Params& p,\n"
      "                                  [[maybe_unused]] const aj::Index& ix,\n"
      "                                  [[maybe_unused]] const RowPart& r,\n"
      "                                  [[maybe_unused]] const ColPart& c) {{\n"
      "    return {joined};\n"
      "  }}\n",
      fmt::arg("any", !row.empty() || !col.empty()),
      fmt::arg("light", variant.mask().empty() || !heavy_code(mask, computed)),
      fmt::arg("row_fields", row_part.fields), fmt::arg("col_fields", col_part.fields),
      fmt::arg("row_values", row_part.values), fmt::arg("col_values", col_part.values),
      fmt::arg("joined", device_expr(mask, variant, named)));
}

}  // namespace attnjit::codegen
