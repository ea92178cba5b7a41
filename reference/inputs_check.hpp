// Validation of a reference call's inputs against its variant, so that the
// computation itself can index freely.
#pragma once

#include "reference/interpreter.hpp"
#include <attnjit/reference.hpp>
#include <attnjit/variant.hpp>

#include <cstdint>

namespace attnjit::reference {

// Checks the shape, the Q/K/V sizes, every param and every tensor, and returns
// the bindings the interpreter reads (defaults filled in, tensors viewing the
// inputs' storage, so `inputs` must outlive them). Throws InputError naming
// the first problem found.
Bindings check_inputs(const Variant& variant, const ReferenceInputs& inputs);

// The keys of batch entry b: inputs.kv_lens[b] for a ragged batch, else shape.kv_len. For
// inputs that check_inputs accepted; throws InputError for a b outside a ragged batch.
std::int64_t entry_kv_len(const ReferenceInputs& inputs, std::int64_t b);

}  // namespace attnjit::reference
