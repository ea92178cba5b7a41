// Tile classification without data: the mask evaluated over a whole tile of
// rows and keys with interval arithmetic, emitted as straight-line code that
// uses the prelude's aj::iv_* operations. Masks that depend only on indices,
// sizes and params (causal, windows, prefixes, chunks) classify exactly. A
// tensor read whose indices reach few elements over the tile is bounded by
// reading them (document ids); other reads and floats count as unknown.
#pragma once

#include <attnjit/ir.hpp>
#include <attnjit/variant.hpp>

#include <string>

namespace attnjit::codegen {

// Statements (each line indented by `indent`) that end by returning the
// aj::TileClass of the tile `tile` under `mask`.
std::string interval_code(const ir::ExprPtr& mask, const Variant& variant, std::string_view indent);

}  // namespace attnjit::codegen
