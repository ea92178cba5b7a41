// The public API's tensor views, checked against a variant and turned into
// the problem launch_fwd takes.
#pragma once

#include "runtime/fwd_launch.hpp"
#include <attnjit/engine.hpp>

namespace attnjit {

// Throws InputError naming the first view whose rank, element type or device
// does not fit; extents and strides are checked by launch_fwd.
FwdProblem fwd_problem(const Variant& variant, const FwdInputs& inputs, int device);
MaskProblem mask_problem(const Variant& variant, const MaskInputs& inputs, int device);
// A bool (or u8) view on the engine's device; its extents are checked by the launch.
DeviceTensor block_mask_tensor(const TensorView& view, int device);

}  // namespace attnjit
