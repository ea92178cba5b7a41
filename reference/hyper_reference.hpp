// The CPU reference of `approx hyper`: the plan of language/hyper_plan.hpp,
// step by step in double precision, with the hash directions and the draws
// of templates/attnjit/hyper.cuh, so that the GPU and the CPU compute the
// same approximation.
#pragma once

#include <attnjit/reference.hpp>

#include <cstdint>
#include <span>

namespace attnjit::reference {

// Whether the plan for this call approximates at all: below min_seq it is
// exact attention, which the plain reference computes (ragged batches too).
// Throws InputError where the plan does, and for a ragged batch past min_seq.
bool hyper_approximates(const Variant& variant, const ReferenceInputs& inputs);

// One (batch, head) plane: out [q_len, head_dim_v] and lse [q_len].
void hyper_plane(const Variant& variant, const ReferenceInputs& inputs, std::int64_t b,
                 std::int64_t h, std::span<double> out, std::span<double> lse);

}  // namespace attnjit::reference
