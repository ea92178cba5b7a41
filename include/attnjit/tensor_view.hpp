// A view of a tensor in GPU memory, as the engine takes it: a pointer, an
// element type, extents and strides (in elements, outermost first). Views
// never own memory. DLPack tensors (PyTorch, JAX, CuPy, ...) convert to it.
#pragma once

#include <attnjit/variant.hpp>

#include <cstdint>
#include <vector>

#include <dlpack/dlpack.h>

namespace attnjit {

struct TensorView {
  void* data = nullptr;  // device address of element [0, 0, ...]
  ElemType dtype = ElemType::F16;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;  // in elements; same length as shape
  int device = 0;                     // CUDA device ordinal
};

// A dense row-major view (strides computed from the shape).
TensorView contiguous_view(void* data, ElemType dtype, std::vector<std::int64_t> shape,
                           int device = 0);

// Throws InputError for a tensor that is not in CUDA memory, an element type
// attnjit has no use for, or vector lanes. Compact strides are filled in when
// the DLTensor has none; byte_offset is folded into `data`.
TensorView from_dlpack(const DLTensor& tensor);

}  // namespace attnjit
