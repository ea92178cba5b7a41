#include "runtime/shape_bucket.hpp"

#include <bit>
#include <cstdint>

namespace attnjit {
namespace {

int log2_ceil(std::int64_t n) {
  if (n <= 1) return 0;
  return static_cast<int>(std::bit_width(static_cast<std::uint64_t>(n - 1)));
}

}  // namespace

db::ShapeBucket shape_bucket(const AttentionShape& shape) {
  return {log2_ceil(shape.q_len), log2_ceil(shape.kv_len), log2_ceil(shape.batch * shape.heads)};
}

}  // namespace attnjit
