// The canonical spelling of expressions and variants, and the variant hash.
#pragma once

#include <attnjit/ir.hpp>
#include <attnjit/variant.hpp>

#include <string>
#include <string_view>

namespace attnjit {

// An expression in the language's own syntax with the fewest parentheses,
// so that equal trees print equal and every print parses back to its tree.
std::string print_expr(const ir::ExprPtr& expr);

// The shortest literal that reads back as exactly this float, always with a
// '.' or an exponent so that it stays a float literal.
std::string float_literal(float value);

// Every statement with defaults resolved, in a fixed order, one per line.
std::string canonical_form(const Variant& variant);

// 16 lowercase hex digits of SHA-256 over a versioned canonical form.
std::string variant_hash(std::string_view canonical);

}  // namespace attnjit
