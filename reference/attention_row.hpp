// The computation of one query row, shared by reference_attention and
// reference_rows so that a sampled row is bit-identical to the same row of the
// full reference.
#pragma once

#include "reference/interpreter.hpp"
#include <attnjit/reference.hpp>
#include <attnjit/variant.hpp>

#include <span>

namespace attnjit::reference {

// A point whose built-in sizes are the shape's, at b = h = q = k = 0.
Point shape_point(const AttentionShape& shape);

// Attention for the query row at point.b, point.h, point.q, with `bindings`
// from check_inputs(variant, inputs), over the keys of batch entry point.b
// (entry_kv_len, which also sets point.kv_len). `logits` is shape.kv_len values of scratch;
// `out` (head_dim_v values) must hold zeros and receives O. Returns the LSE:
// -inf, with `out` left at zero, for a fully masked row.
double attention_row(const Variant& variant, const ReferenceInputs& inputs,
                     const Bindings& bindings, Point point, std::span<double> logits,
                     std::span<double> out);

}  // namespace attnjit::reference
