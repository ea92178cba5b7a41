// The score's tensor reads that no row or key changes (a slope per KV head,
// a bias per batch entry and head), read once a row of a tile instead of once
// an element. The compiler keeps such a read out of the per-element code by
// itself only where the head is a plain function of block indices: a read by
// `hkv`, or by `b` and `h` together, was 256 loads in the sm_90a kernel.
#pragma once

#include "codegen/device_expr.hpp"
#include <attnjit/variant.hpp>

#include <optional>
#include <string>

namespace attnjit::codegen {

struct HeadValues {
  std::string fields;       // members of Params: "    float hv0;\n" ...
  std::string assignments;  // at_head's body: "    p.hv0 = ...;\n" ...
  NamedExprs named;         // each read (and its spelling elsewhere) as its field, "p.hv0"
};

// The largest subexpressions of the score that read tensors and name no
// row, key or score (causal neither), and their fields; subexpressions spelled
// alike share one. The score and its additive bias (score_terms.hpp's, which
// the caller keeps while it prints with `named`) are separate trees, so both
// are searched.
HeadValues head_values(const Variant& variant, const std::optional<ir::ExprPtr>& bias);

}  // namespace attnjit::codegen
