// The public API's tensor views, checked against a variant and turned into
// the problem launch_fwd takes.
#pragma once

#include "runtime/fwd_launch.hpp"
#include <attnjit/engine.hpp>

namespace attnjit {

// Throws InputError naming the first view whose rank, element type or device
// does not fit; extents and strides are checked by launch_fwd.
FwdProblem fwd_problem(const Variant& variant, const FwdInputs& inputs, int device);

}  // namespace attnjit
