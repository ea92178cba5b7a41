// IR to CUDA C++ expressions with the language's exact semantics: wrapping
// 64-bit ints, IEEE floats through accurate library calls, bounds-safe reads.
#pragma once

#include <attnjit/ir.hpp>
#include <attnjit/variant.hpp>

#include <map>
#include <string>
#include <string_view>

namespace attnjit::codegen {

// In the generated code the element's indices and sizes are `ix.<name>`, the
// params and tensors `p.<name>`, and the scaled logit `score`.
// Tensor element types are looked up in `variant`. Subexpressions in `named`
// print as the code given there (values computed elsewhere). `key_step`, when
// given, names an int that the caller keeps so that `ix.k - key_step` is the
// same for all the elements of a row it unrolls and key_step itself is known
// at compile time there (codegen/key_steps.hpp).
using NamedExprs = std::map<const ir::Expr*, std::string>;
std::string device_expr(const ir::ExprPtr& expr, const Variant& variant,
                        const NamedExprs& named = {}, std::string_view key_step = {});
// The float expression times the code `factor`, the factor multiplied into
// the parts of expr free of k where it can be (once per row, not per key).
std::string device_expr_times(const ir::ExprPtr& expr, std::string_view factor,
                              const Variant& variant, const NamedExprs& named = {},
                              std::string_view key_step = {});

// The C++ type that holds a value of the IR type in generated code: the
// language's ints are 64-bit.
std::string c_type(ir::Type type);

// The prelude's tag type for reading elements of this type (aj::I32, ...).
std::string tensor_tag(ElemType element);

// The generated field (and kernel argument) of a param or tensor: prefixed, so
// that no user name can collide with a C++ keyword, a macro or the generator's
// own names.
std::string field_name(std::string_view name);

// A float literal that means exactly `value` (hexadecimal, so nothing rounds).
std::string float_literal(float value);

}  // namespace attnjit::codegen
