// Constant folding: every sub-expression whose value is known is replaced by
// it, with the language's own semantics (float32 arithmetic, wrapping ints).
#pragma once

#include <attnjit/ir.hpp>

namespace attnjit {

// `head_dim` is already a constant by the time expressions reach the IR.
// A fold that would produce inf or NaN is left unfolded, so every constant in
// the result can be written as a literal.
ir::ExprPtr fold(const ir::ExprPtr& expr);

}  // namespace attnjit
