// How much code an expression becomes, for choices that trade code size
// against speed.
#pragma once

#include <attnjit/ir.hpp>

namespace attnjit::codegen {

// Whether the device code for `expr`, or its interval code, is large and
// register-hungry: tensor reads (scans of document ids, say) and 64-bit
// divisions make it so. Comparisons and sums of indices do not.
bool heavy_code(const ir::ExprPtr& expr);

// Whether `expr` reads a tensor anywhere.
bool reads_tensors(const ir::ExprPtr& expr);

}  // namespace attnjit::codegen
