#include "runtime/fwd_inputs.hpp"

#include "codegen/io_rules.hpp"

#include <fmt/format.h>

namespace attnjit {
namespace {

std::optional<ElemType> storage_type(DType type) {
  switch (type) {
    case DType::F16: return ElemType::F16;
    case DType::BF16: return ElemType::BF16;
    case DType::FP8E4M3: return ElemType::F8E4M3;
    case DType::FP8E5M2: return ElemType::F8E5M2;
  }
  return std::nullopt;
}

// Bools are stored one per byte, so u8 and bool views hold the same bytes.
bool same_storage(ElemType a, ElemType b) {
  const auto byte = [](ElemType t) { return t == ElemType::U8 || t == ElemType::Bool; };
  return a == b || (byte(a) && byte(b));
}

DeviceTensor device_tensor(const std::string& name, const TensorView& view,
                           std::optional<ElemType> dtype, int device) {
  if (view.data == nullptr) throw InputError(fmt::format("tensor '{}' has no data", name));
  if (view.device != device) {
    throw InputError(
        fmt::format("tensor '{}' is on GPU {}, the engine on GPU {}", name, view.device, device));
  }
  if (view.strides.size() != view.shape.size()) {
    throw InputError(fmt::format("tensor '{}' has {} extents but {} strides", name,
                                 view.shape.size(), view.strides.size()));
  }
  if (dtype && !same_storage(*dtype, view.dtype)) {
    throw InputError(fmt::format("tensor '{}' must be {}, not {}", name, elem_type_name(*dtype),
                                 elem_type_name(view.dtype)));
  }
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the driver API's address type
  return DeviceTensor{reinterpret_cast<CUdeviceptr>(view.data), view.shape, view.strides};
}

std::map<std::string, DeviceTensor, std::less<>> declared_tensors(
    const Variant& variant, const std::map<std::string, TensorView, std::less<>>& views,
    int device) {
  std::map<std::string, DeviceTensor, std::less<>> tensors;
  for (const auto& [name, view] : views) {
    const TensorDecl* decl = variant.find_tensor(name);
    if (decl == nullptr) {
      throw InputError(fmt::format("variant '{}' declares no tensor '{}'", variant.name(), name));
    }
    tensors.emplace(name, device_tensor(name, view, decl->element, device));
  }
  return tensors;
}

// Float factors per (batch, head), or per block as well; a stride of 0 shares a factor.
DeviceTensor descale_tensor(const std::string& name, const TensorView& view,
                            const DescaleShape& shape, int device) {
  DeviceTensor tensor = device_tensor(name, view, ElemType::F32, device);
  check_descale(name, tensor, shape);
  return tensor;
}

void add_descales(const Variant& variant, const FwdInputs& inputs, int device,
                  FwdProblem& problem) {
  if (!inputs.q_descale && !inputs.k_descale && !inputs.v_descale) return;
  if (!codegen::fp8_inputs(variant)) {
    throw InputError(fmt::format("variant '{}' has {} inputs; descale factors are for fp8 variants",
                                 variant.name(), dtype_name(variant.dtype())));
  }
  const AttentionShape& s = problem.shape;
  if (inputs.q_descale) {
    problem.q_descale = descale_tensor("q_descale", *inputs.q_descale, q_descale_shape(s), device);
  }
  if (inputs.k_descale) {
    problem.k_descale = descale_tensor("k_descale", *inputs.k_descale, k_descale_shape(s), device);
  }
  if (inputs.v_descale) {
    problem.v_descale = descale_tensor("v_descale", *inputs.v_descale,
                                       v_descale_shape(s, variant.head_dim_v()), device);
  }
}

}  // namespace

FwdProblem fwd_problem(const Variant& variant, const FwdInputs& inputs, int device) {
  const std::optional<ElemType> in = storage_type(variant.dtype());
  const std::optional<ElemType> out = storage_type(variant.out_dtype());
  if (!in || !out) {
    throw InputError(fmt::format("variant '{}': {} inputs have no kernel family yet",
                                 variant.name(), dtype_name(variant.dtype())));
  }
  FwdProblem problem;
  problem.shape = shape_of(inputs);
  problem.q = device_tensor("q", inputs.q, in, device);
  problem.k = device_tensor("k", inputs.k, in, device);
  problem.v = device_tensor("v", inputs.v, in, device);
  problem.o = device_tensor("o", inputs.o, out, device);
  if (inputs.lse) {
    const AttentionShape& s = problem.shape;
    const DeviceTensor lse = device_tensor("lse", *inputs.lse, ElemType::F32, device);
    if (lse.shape != std::vector<std::int64_t>{s.batch, s.heads, s.q_len} ||
        lse.strides != std::vector<std::int64_t>{s.heads * s.q_len, s.q_len, 1}) {
      throw InputError(fmt::format("lse must be a contiguous float tensor [{}, {}, {}]", s.batch,
                                   s.heads, s.q_len));
    }
    problem.lse = lse.data;
  }
  if (inputs.page_table) {
    problem.page_table = device_tensor("page_table", *inputs.page_table, ElemType::I32, device);
  }
  if (inputs.kv_lens) {
    problem.kv_lens = device_tensor("kv_lens", *inputs.kv_lens, ElemType::I32, device);
  }
  add_descales(variant, inputs, device, problem);
  problem.params = inputs.params;
  problem.tensors = declared_tensors(variant, inputs.tensors, device);
  return problem;
}

MaskProblem mask_problem(const Variant& variant, const MaskInputs& inputs, int device) {
  return MaskProblem{inputs.shape, inputs.params,
                     declared_tensors(variant, inputs.tensors, device)};
}

DeviceTensor block_mask_tensor(const TensorView& view, int device) {
  return device_tensor("block_mask", view, ElemType::Bool, device);
}

AttentionShape shape_of(const FwdInputs& inputs) {
  if (inputs.q.shape.size() != 4 || inputs.k.shape.size() != 4) {
    throw InputError("q and k must be 4-dimensional: [batch, heads, length, head_dim]");
  }
  std::int64_t kv_len = inputs.k.shape[2];
  if (inputs.page_table) {
    if (inputs.page_table->shape.size() != 2) {
      throw InputError("page_table must be 2-dimensional: [batch, max_pages]");
    }
    kv_len = inputs.page_table->shape[1] * inputs.k.shape[2];
  }
  return AttentionShape{inputs.q.shape[0], inputs.q.shape[1], inputs.k.shape[1], inputs.q.shape[2],
                        kv_len};
}

}  // namespace attnjit
