// Lowering: resolves the names of a parsed variant, checks its types and
// declarations with located errors, and builds the Variant through the same
// VariantBuilder the C++ face uses.
#pragma once

#include "language/ast.hpp"
#include "language/diagnostic.hpp"
#include <attnjit/variant.hpp>

#include <optional>

namespace attnjit {

// Empty when the variant has errors; they are reported to `diagnostics`.
std::optional<Variant> lower(const ast::Variant& parsed, Diagnostics& diagnostics);

}  // namespace attnjit
