// The CPU reference of `approx hyper`: the plan of language/hyper_plan.hpp,
// step by step in double precision, with the hash directions and the draws
// of templates/attnjit/hyper.cuh, so that the GPU and the CPU compute the
// same approximation.
#pragma once

#include <attnjit/reference.hpp>

#include <cstdint>
#include <span>

namespace attnjit::reference {

// One (batch, head) plane: out [q_len, head_dim_v] and lse [q_len].
void hyper_plane(const Variant& variant, const ReferenceInputs& inputs, std::int64_t b,
                 std::int64_t h, std::span<double> out, std::span<double> lse);

}  // namespace attnjit::reference
