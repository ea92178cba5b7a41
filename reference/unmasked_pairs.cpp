#include "reference/inputs_check.hpp"
#include "reference/interpreter.hpp"
#include <attnjit/reference.hpp>

namespace attnjit {

std::int64_t unmasked_pairs(const Variant& variant, const ReferenceInputs& inputs, std::int64_t b,
                            std::int64_t h) {
  const reference::Bindings bindings = reference::check_inputs(variant, inputs);
  const AttentionShape& shape = inputs.shape;
  reference::Point point;
  point.b = b;
  point.h = h;
  point.hkv = h / (shape.heads / shape.kv_heads);
  point.batch = shape.batch;
  point.heads = shape.heads;
  point.kv_heads = shape.kv_heads;
  point.q_len = shape.q_len;
  point.kv_len = reference::entry_kv_len(inputs, b);
  std::int64_t count = 0;
  for (point.q = 0; point.q < shape.q_len; ++point.q) {
    for (point.k = 0; point.k < point.kv_len; ++point.k) {
      count += reference::mask_holds(variant.mask(), point, bindings) ? 1 : 0;
    }
  }
  return count;
}

}  // namespace attnjit
