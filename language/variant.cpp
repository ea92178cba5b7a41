#include <attnjit/variant.hpp>

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace attnjit {
namespace {

template <class Enum, std::size_t N>
std::string_view spelling(const std::array<std::pair<Enum, std::string_view>, N>& table,
                          Enum value) {
  for (const auto& [entry, name] : table) {
    if (entry == value) return name;
  }
  return "?";
}

template <class Enum, std::size_t N>
std::optional<Enum> lookup(const std::array<std::pair<Enum, std::string_view>, N>& table,
                           std::string_view name) {
  for (const auto& [entry, spelled] : table) {
    if (spelled == name) return entry;
  }
  return std::nullopt;
}

constexpr std::array kDTypes = {
    std::pair{DType::F16, std::string_view{"fp16"}},
    std::pair{DType::BF16, std::string_view{"bf16"}},
    std::pair{DType::FP8E4M3, std::string_view{"fp8_e4m3"}},
    std::pair{DType::FP8E5M2, std::string_view{"fp8_e5m2"}},
};
constexpr std::array kParamTypes = {
    std::pair{ParamType::I32, std::string_view{"i32"}},
    std::pair{ParamType::F32, std::string_view{"f32"}},
    std::pair{ParamType::Bool, std::string_view{"bool"}},
};
constexpr std::array kElemTypes = {
    std::pair{ElemType::I32, std::string_view{"i32"}},
    std::pair{ElemType::F32, std::string_view{"f32"}},
    std::pair{ElemType::F16, std::string_view{"f16"}},
    std::pair{ElemType::BF16, std::string_view{"bf16"}},
    std::pair{ElemType::U8, std::string_view{"u8"}},
    std::pair{ElemType::Bool, std::string_view{"bool"}},
    std::pair{ElemType::F8E4M3, std::string_view{"fp8_e4m3"}},
    std::pair{ElemType::F8E5M2, std::string_view{"fp8_e5m2"}},
};
constexpr std::array kDimKinds = {
    std::pair{DimKind::Batch, std::string_view{"batch"}},
    std::pair{DimKind::Heads, std::string_view{"heads"}},
    std::pair{DimKind::KvHeads, std::string_view{"kv_heads"}},
    std::pair{DimKind::QLen, std::string_view{"q_len"}},
    std::pair{DimKind::KvLen, std::string_view{"kv_len"}},
};

}  // namespace

std::string_view dtype_name(DType type) { return spelling(kDTypes, type); }
std::optional<DType> parse_dtype(std::string_view name) { return lookup(kDTypes, name); }
std::string_view param_type_name(ParamType type) { return spelling(kParamTypes, type); }
std::optional<ParamType> parse_param_type(std::string_view name) {
  return lookup(kParamTypes, name);
}
std::string_view elem_type_name(ElemType type) { return spelling(kElemTypes, type); }
std::optional<ElemType> parse_elem_type(std::string_view name) { return lookup(kElemTypes, name); }
std::string_view dim_kind_name(DimKind kind) { return spelling(kDimKinds, kind); }
std::optional<DimKind> parse_dim_kind(std::string_view name) { return lookup(kDimKinds, name); }

ir::ExprPtr hash_bucket_term() {
  using ir::Builtin;
  const auto bucket = [](std::string_view tensor, Builtin head, Builtin row) {
    return ir::tensor_read(std::string(tensor), ir::Type::Int,
                           {ir::builtin(Builtin::B), ir::builtin(head), ir::builtin(row)});
  };
  return ir::binary(ir::BinaryOp::Eq, bucket(kQueryBucketTensor, Builtin::H, Builtin::Q),
                    bucket(kKeyBucketTensor, Builtin::Hkv, Builtin::K));
}

namespace {

struct HyperArg {
  std::string_view key;
  std::int64_t lo, hi;
  int HyperApprox::*field;
};
constexpr std::array kHyperArgs = {
    HyperArg{"block", 1, kMaxHyperBlock, &HyperApprox::block},
    HyperArg{"samples", 0, kMaxHyperSamples, &HyperApprox::samples},
    HyperArg{"lsh_bits", 1, kMaxHyperLshBits, &HyperApprox::lsh_bits},
    HyperArg{"min_seq", 1, kMaxHyperMinSeq, &HyperApprox::min_seq},
};

const HyperArg* find_hyper_arg(std::string_view key) {
  for (const HyperArg& arg : kHyperArgs) {
    if (arg.key == key) return &arg;
  }
  return nullptr;
}

}  // namespace

std::optional<std::string> hyper_arg_problem(std::string_view key, std::int64_t value) {
  const HyperArg* arg = find_hyper_arg(key);
  if (arg == nullptr) {
    return fmt::format("unknown argument '{}' of approx hyper (block, samples, lsh_bits, min_seq)",
                       key);
  }
  if (value < arg->lo || value > arg->hi) {
    return fmt::format("approx hyper's {} must be in {}..{}, got {}", key, arg->lo, arg->hi, value);
  }
  return std::nullopt;
}

bool is_sage_arg(std::string_view key) {
  return key == "qk" || key == "pv" || key == "smooth_k" || key == "hadamard";
}

std::optional<std::string> set_sage_arg(SageQuant& quant, std::string_view key,
                                        std::string_view value) {
  // int8 is the one QK^T there is: on 4 outlier channels e4m3 codes of Q and
  // K reached cos 0.9906 where int8 reaches 0.9993 (H100, session 21).
  if (key == "qk") {
    if (value != "int8") return fmt::format("quant sage's qk is int8, not '{}'", value);
  } else if (key == "pv") {
    const std::optional<DType> type = parse_dtype(value);
    if (type != DType::FP8E4M3 && type != DType::F16 && type != DType::BF16) {
      return fmt::format("quant sage's pv is fp8_e4m3, fp16 or bf16, not '{}'", value);
    }
    quant.pv = *type;
  } else if (key == "smooth_k" || key == "hadamard") {
    if (value != "true" && value != "false") {
      return fmt::format("quant sage's {} is true or false, not '{}'", key, value);
    }
    (key == "smooth_k" ? quant.smooth_k : quant.hadamard) = value == "true";
  } else {
    return fmt::format("unknown argument '{}' of quant sage (qk, pv, smooth_k, hadamard)", key);
  }
  return std::nullopt;
}

void set_hyper_arg(HyperApprox& hyper, std::string_view key, int value) {
  if (const HyperArg* arg = find_hyper_arg(key)) hyper.*(arg->field) = value;
}

std::optional<std::int64_t> dim_extent(const Dim& dim, const AttentionShape& shape) {
  const auto length = [&shape](DimKind kind) {
    switch (kind) {
      case DimKind::Batch: return shape.batch;
      case DimKind::Heads: return shape.heads;
      case DimKind::KvHeads: return shape.kv_heads;
      case DimKind::QLen: return shape.q_len;
      case DimKind::KvLen: return shape.kv_len;
    }
    return std::int64_t{0};
  };
  if (const auto* kind = std::get_if<DimKind>(&dim)) return length(*kind);
  if (const auto* fixed = std::get_if<std::int64_t>(&dim)) return *fixed;
  if (const auto* blocks = std::get_if<BlockCount>(&dim)) {
    return (length(blocks->length) + blocks->block - 1) / blocks->block;
  }
  return std::nullopt;
}

std::string dim_spelling(const Dim& dim) {
  if (const auto* kind = std::get_if<DimKind>(&dim)) return std::string(dim_kind_name(*kind));
  if (const auto* extent = std::get_if<std::int64_t>(&dim)) return std::to_string(*extent);
  if (const auto* blocks = std::get_if<BlockCount>(&dim)) {
    return "blocks(" + std::string(dim_kind_name(blocks->length)) + ", " +
           std::to_string(blocks->block) + ")";
  }
  return std::get<std::string>(dim);
}

ir::Type value_type(ParamType type) {
  switch (type) {
    case ParamType::I32: return ir::Type::Int;
    case ParamType::F32: return ir::Type::Float;
    case ParamType::Bool: return ir::Type::Bool;
  }
  return ir::Type::Int;
}

ir::Type value_type(ElemType type) {
  switch (type) {
    case ElemType::I32:
    case ElemType::U8: return ir::Type::Int;
    case ElemType::F32:
    case ElemType::F16:
    case ElemType::BF16:
    case ElemType::F8E4M3:
    case ElemType::F8E5M2: return ir::Type::Float;
    case ElemType::Bool: return ir::Type::Bool;
  }
  return ir::Type::Int;
}

ParamType param_value_type(const ParamValue& value) {
  static_assert(std::variant_size_v<ParamValue> == 3);
  return static_cast<ParamType>(value.index());
}

namespace {

// A balanced tree keeps the depth logarithmic in the number of conjuncts.
ir::ExprPtr conjunction(const std::vector<ir::ExprPtr>& terms, std::size_t first,
                        std::size_t last) {
  if (last - first == 1) return terms[first];
  const std::size_t middle = first + (last - first) / 2;
  return ir::binary(ir::BinaryOp::And, conjunction(terms, first, middle),
                    conjunction(terms, middle, last));
}

}  // namespace

ir::ExprPtr Variant::mask_expr() const {
  if (mask_.empty()) return ir::bool_const(true);
  return conjunction(mask_, 0, mask_.size());
}

const ParamDecl* Variant::find_param(std::string_view name) const {
  const auto it = std::find_if(params_.begin(), params_.end(),
                               [&](const ParamDecl& decl) { return decl.name == name; });
  return it == params_.end() ? nullptr : &*it;
}

const TensorDecl* Variant::find_tensor(std::string_view name) const {
  const auto it = std::find_if(tensors_.begin(), tensors_.end(),
                               [&](const TensorDecl& decl) { return decl.name == name; });
  return it == tensors_.end() ? nullptr : &*it;
}

}  // namespace attnjit
