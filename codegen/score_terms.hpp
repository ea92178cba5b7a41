// Scores that add terms to the scaled logit, `score + B` as a sum in any
// order (ALiBi, relative position biases): the families compute them in the
// log2 domain as x * (scale * log2 e) + B * log2 e, one FFMA per element,
// instead of scaling x, adding B and scaling the sum.
#pragma once

#include <attnjit/ir.hpp>

#include <optional>

namespace attnjit::codegen {

// B when `score` is a sum (+, -, unary -) with `score` as one term added once
// and no other term reading it; nothing for any other score, and for the
// identity score, which has no B.
std::optional<ir::ExprPtr> additive_bias(const ir::ExprPtr& score);

}  // namespace attnjit::codegen
