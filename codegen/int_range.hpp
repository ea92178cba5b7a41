// Bounds of int expressions over every launch the runtime accepts. The
// language's ints are 64-bit; where one provably fits far fewer bits, the
// generator may use cheaper instructions for it (a float conversion, say).
#pragma once

#include <attnjit/ir.hpp>
#include <attnjit/variant.hpp>

#include <cstdint>
#include <optional>

namespace attnjit::codegen {

// What launches the runtime accepts, and what the bounds below assume.
inline constexpr std::int64_t kMaxSequence = std::int64_t{1} << 30;  // q_len, kv_len
inline constexpr std::int64_t kMaxGridDim = 65535;                   // batch, heads

struct IntRange {
  std::int64_t lo = 0, hi = 0;  // inclusive
};

// The values the int expression `expr` can take; nothing when it may wrap
// around int64 or nothing bounds it.
std::optional<IntRange> int_range(const ir::ExprPtr& expr, const Variant& variant);

// Whether the int expression `expr` and every int operand under it (down to
// tensor reads, whose indices are their own business) fit int32, so that it
// can be computed in 32-bit arithmetic with the same result: then no
// intermediate value wraps either way.
bool fits_int32(const ir::ExprPtr& expr, const Variant& variant);

}  // namespace attnjit::codegen
