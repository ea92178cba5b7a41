// Validation of a reference call's inputs against its variant, so that the
// computation itself can index freely.
#pragma once

#include "reference/interpreter.hpp"
#include <attnjit/reference.hpp>
#include <attnjit/variant.hpp>

namespace attnjit::reference {

// Checks the shape, the Q/K/V sizes, every param and every tensor, and returns
// the bindings the interpreter reads (defaults filled in, tensors viewing the
// inputs' storage, so `inputs` must outlive them). Throws InputError naming
// the first problem found.
Bindings check_inputs(const Variant& variant, const ReferenceInputs& inputs);

}  // namespace attnjit::reference
