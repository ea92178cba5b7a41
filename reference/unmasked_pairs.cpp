#include "reference/inputs_check.hpp"
#include "reference/interpreter.hpp"
#include "reference/parallel_slices.hpp"
#include <attnjit/reference.hpp>

#include <atomic>

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
  std::atomic<std::int64_t> count{0};
  reference::parallel_slices(
      shape.q_len, reference::kRowsASlice, [&](std::int64_t begin, std::int64_t end) {
        reference::Point mine = point;
        std::int64_t held = 0;
        for (mine.q = begin; mine.q < end; ++mine.q) {
          for (mine.k = 0; mine.k < mine.kv_len; ++mine.k) {
            held += reference::mask_holds(variant.mask(), mine, bindings) ? 1 : 0;
          }
        }
        count += held;
      });
  return count;
}

}  // namespace attnjit
