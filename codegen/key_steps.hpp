// How an int expression moves along a row of keys. The families unroll a
// lane's keys as k = k_lane + step with the step known at compile time; an
// expression linear in k then takes one value per row (at k_lane) and a
// constant per element, which turns ALiBi's per-element int-to-float
// conversion of k - q into one float add.
#pragma once

#include <attnjit/ir.hpp>

#include <cstdint>
#include <optional>

namespace attnjit::codegen {

// The constant c with expr(k + d) == expr(k) + c * d for every key k and
// step d, as long as nothing wraps: 0 when expr does not read k; nothing when
// k enters it any other way than through +, - and products with int literals
// (a tensor read, a division, a call, a select, a product with a variable).
std::optional<std::int64_t> key_coefficient(const ir::ExprPtr& expr);

}  // namespace attnjit::codegen
