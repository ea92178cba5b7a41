#include "reference/inputs_check.hpp"

#include <attnjit/error.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace attnjit::reference {
namespace {

// Sizes come from the caller, so their products may overflow; no real input is that large.
std::int64_t checked_product(std::span<const std::int64_t> sizes, std::string_view what) {
  std::int64_t product = 1;
  for (const std::int64_t size : sizes) {
    if (__builtin_mul_overflow(product, size, &product)) {
      throw InputError(fmt::format("{} is too large: [{}]", what, fmt::join(sizes, ", ")));
    }
  }
  return product;
}

void check_shape(const AttentionShape& shape) {
  const std::array<std::pair<std::string_view, std::int64_t>, 3> counts = {{
      {"batch", shape.batch},
      {"q_len", shape.q_len},
      {"kv_len", shape.kv_len},
  }};
  for (const auto& [name, size] : counts) {
    if (size < 0) throw InputError(fmt::format("{} is {}; it must not be negative", name, size));
  }
  // Zero heads would leave the query-to-key head mapping undefined.
  if (shape.heads < 1) {
    throw InputError(fmt::format("heads is {}; it must be positive", shape.heads));
  }
  if (shape.kv_heads < 1) {
    throw InputError(fmt::format("kv_heads is {}; it must be positive", shape.kv_heads));
  }
  if (shape.heads % shape.kv_heads != 0) {
    throw InputError(
        fmt::format("kv_heads ({}) must divide heads ({})", shape.kv_heads, shape.heads));
  }
}

void check_kv_lens(const ReferenceInputs& inputs) {
  const std::vector<std::int64_t>& kv_lens = inputs.kv_lens;
  if (kv_lens.empty()) return;
  const AttentionShape& shape = inputs.shape;
  if (kv_lens.size() != static_cast<std::size_t>(shape.batch)) {
    throw InputError(fmt::format("kv_lens has {} values, but batch is {}: give one per batch entry",
                                 kv_lens.size(), shape.batch));
  }
  for (std::size_t b = 0; b < kv_lens.size(); ++b) {
    if (kv_lens[b] < 0 || kv_lens[b] > shape.kv_len) {
      throw InputError(fmt::format("kv_lens[{}] is {}; it must be in 0..kv_len ({})", b, kv_lens[b],
                                   shape.kv_len));
    }
  }
}

void check_span(std::string_view name, std::size_t size, std::string_view layout,
                const std::array<std::int64_t, 4>& dims) {
  const std::int64_t expected = checked_product(dims, name);
  if (size != static_cast<std::size_t>(expected)) {
    throw InputError(fmt::format("{} has {} values, but {} = [{}] needs {}", name, size, layout,
                                 fmt::join(dims, ", "), expected));
  }
}

void check_qkv(const Variant& variant, const ReferenceInputs& inputs) {
  const AttentionShape& s = inputs.shape;
  check_span("q", inputs.q.size(), "[batch, heads, q_len, head_dim]",
             {s.batch, s.heads, s.q_len, variant.head_dim()});
  check_span("k", inputs.k.size(), "[batch, kv_heads, kv_len, head_dim]",
             {s.batch, s.kv_heads, s.kv_len, variant.head_dim()});
  check_span("v", inputs.v.size(), "[batch, kv_heads, kv_len, head_dim_v]",
             {s.batch, s.kv_heads, s.kv_len, variant.head_dim_v()});
}

Value to_value(const ParamValue& value) {
  switch (param_value_type(value)) {
    case ParamType::I32: return Value::of_int(std::get<std::int32_t>(value));
    case ParamType::F32: return Value::of_float(std::get<float>(value));
    case ParamType::Bool: return Value::of_bool(std::get<bool>(value));
  }
  return {};
}

void bind_params(const Variant& variant, const ReferenceInputs& inputs, Bindings& bindings) {
  for (const auto& [name, value] : inputs.params) {
    if (variant.find_param(name) == nullptr) {
      throw InputError(fmt::format("'{}' is not a param of variant '{}'", name, variant.name()));
    }
  }
  for (const ParamDecl& decl : variant.params()) {
    const auto given = inputs.params.find(decl.name);
    const ParamValue* value = nullptr;
    if (given != inputs.params.end()) {
      value = &given->second;
    } else if (decl.default_value) {
      value = &*decl.default_value;
    } else {
      throw InputError(fmt::format("param '{}: {}' has no value and no default", decl.name,
                                   param_type_name(decl.type)));
    }
    if (param_value_type(*value) != decl.type) {
      throw InputError(fmt::format("param '{}' is {} but was given a {} value", decl.name,
                                   param_type_name(decl.type),
                                   param_type_name(param_value_type(*value))));
    }
    bindings.params.emplace(decl.name, to_value(*value));
  }
}

std::string declaration(const TensorDecl& decl) {
  std::string dims;
  for (const Dim& dim : decl.dims) {
    if (!dims.empty()) dims += ", ";
    dims += dim_spelling(dim);
  }
  return fmt::format("{}: {}[{}]", decl.name, elem_type_name(decl.element), dims);
}

// The extent each free dimension name took first, and in which tensor, so
// that a later disagreement can name both sides.
struct FreeExtent {
  std::int64_t extent;
  std::string tensor;
};
using FreeExtents = std::map<std::string, FreeExtent, std::less<>>;

void check_extents(const TensorDecl& decl, const HostTensor& tensor, const AttentionShape& shape,
                   FreeExtents& free_extents) {
  if (tensor.shape.size() != decl.dims.size()) {
    throw InputError(fmt::format("tensor '{}' has rank {}, but is declared {}", decl.name,
                                 tensor.shape.size(), declaration(decl)));
  }
  for (std::size_t i = 0; i < decl.dims.size(); ++i) {
    const std::int64_t extent = tensor.shape[i];
    const Dim& dim = decl.dims[i];
    if (extent < 0) {
      throw InputError(
          fmt::format("tensor '{}' has extent {} in dimension {}", decl.name, extent, i));
    }
    if (const auto* fixed = std::get_if<std::int64_t>(&dim)) {
      if (extent != *fixed) {
        throw InputError(
            fmt::format("tensor '{}' has extent {} in dimension {}, but is declared {}", decl.name,
                        extent, i, declaration(decl)));
      }
    } else if (const std::optional<std::int64_t> expected = dim_extent(dim, shape)) {
      if (extent != *expected) {
        throw InputError(fmt::format("tensor '{}' has extent {} in dimension {}, but {} is {}",
                                     decl.name, extent, i, dim_spelling(dim), *expected));
      }
    } else {
      const auto& name = std::get<std::string>(dim);
      const auto [first, inserted] = free_extents.try_emplace(name, FreeExtent{extent, decl.name});
      if (!inserted && first->second.extent != extent) {
        throw InputError(
            fmt::format("tensor '{}' has extent {} in dimension {}, but '{}' is {} in tensor '{}'",
                        decl.name, extent, i, name, first->second.extent, first->second.tensor));
      }
    }
  }
}

struct IntRange {
  double lowest;
  double highest;
};

// The values an int element type can hold; float and bool elements take any double.
std::optional<IntRange> int_range(ElemType element) {
  switch (element) {
    case ElemType::I32:
      return IntRange{std::numeric_limits<std::int32_t>::min(),
                      std::numeric_limits<std::int32_t>::max()};
    case ElemType::U8:
      return IntRange{std::numeric_limits<std::uint8_t>::min(),
                      std::numeric_limits<std::uint8_t>::max()};
    case ElemType::F32:
    case ElemType::F16:
    case ElemType::BF16:
    // No declared tensor is fp8 (the builder refuses it); were one, it would
    // hold floats.
    case ElemType::F8E4M3:
    case ElemType::F8E5M2:
    case ElemType::Bool: return std::nullopt;
  }
  return std::nullopt;
}

// Int elements must survive the truncation to their element type, which also
// keeps the interpreter's double-to-int conversion defined.
void check_elements(const TensorDecl& decl, const HostTensor& tensor) {
  const std::optional<IntRange> range = int_range(decl.element);
  if (!range) return;
  for (std::size_t i = 0; i < tensor.data.size(); ++i) {
    const double truncated = std::trunc(tensor.data[i]);
    if (!(truncated >= range->lowest && truncated <= range->highest)) {
      throw InputError(fmt::format("tensor '{}' element {} is {}, which is not a valid {}",
                                   decl.name, i, tensor.data[i], elem_type_name(decl.element)));
    }
  }
}

void bind_tensors(const Variant& variant, const ReferenceInputs& inputs, Bindings& bindings) {
  for (const auto& [name, tensor] : inputs.tensors) {
    if (variant.find_tensor(name) == nullptr) {
      throw InputError(fmt::format("'{}' is not a tensor of variant '{}'", name, variant.name()));
    }
  }
  FreeExtents free_extents;
  for (const TensorDecl& decl : variant.tensors()) {
    const auto given = inputs.tensors.find(decl.name);
    if (given == inputs.tensors.end()) {
      throw InputError(fmt::format("tensor '{}' is missing", declaration(decl)));
    }
    const HostTensor& tensor = given->second;
    check_extents(decl, tensor, inputs.shape, free_extents);
    const std::int64_t count = checked_product(tensor.shape, fmt::format("tensor '{}'", decl.name));
    if (tensor.data.size() != static_cast<std::size_t>(count)) {
      throw InputError(fmt::format("tensor '{}' holds {} values, but its shape [{}] needs {}",
                                   decl.name, tensor.data.size(), fmt::join(tensor.shape, ", "),
                                   count));
    }
    check_elements(decl, tensor);
    bindings.tensors.emplace(decl.name, TensorView{tensor.shape, tensor.data});
  }
}

}  // namespace

Bindings check_inputs(const Variant& variant, const ReferenceInputs& inputs) {
  check_shape(inputs.shape);
  check_kv_lens(inputs);
  check_qkv(variant, inputs);
  Bindings bindings;
  bind_params(variant, inputs, bindings);
  bind_tensors(variant, inputs, bindings);
  return bindings;
}

std::int64_t entry_kv_len(const ReferenceInputs& inputs, std::int64_t b) {
  if (inputs.kv_lens.empty()) return inputs.shape.kv_len;
  if (b < 0 || b >= inputs.shape.batch) {
    throw InputError(
        fmt::format("batch entry {} has no kv_lens value: batch is {}", b, inputs.shape.batch));
  }
  return inputs.kv_lens[static_cast<std::size_t>(b)];
}

}  // namespace attnjit::reference
