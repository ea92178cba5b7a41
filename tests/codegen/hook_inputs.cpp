#include "tests/codegen/hook_inputs.hpp"

#include "harness/half.hpp"

#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace attnjit::codegen_test {
namespace {

template <class T>
void append(std::vector<unsigned char>& bytes, T value) {
  unsigned char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  bytes.insert(bytes.end(), raw, raw + sizeof(T));
}

void store(std::vector<unsigned char>& bytes, ElemType element, double value) {
  switch (element) {
    case ElemType::I32: append(bytes, static_cast<std::int32_t>(value)); break;
    case ElemType::U8: append(bytes, static_cast<std::uint8_t>(value)); break;
    case ElemType::Bool: append(bytes, static_cast<std::uint8_t>(value != 0 ? 1 : 0)); break;
    case ElemType::F32: append(bytes, static_cast<float>(value)); break;
    case ElemType::F16: append(bytes, harness::to_fp16(static_cast<float>(value))); break;
    case ElemType::BF16: append(bytes, harness::to_bf16(static_cast<float>(value))); break;
    case ElemType::F8E4M3:
    case ElemType::F8E5M2: throw std::logic_error("a declared tensor is never fp8");
  }
}

}  // namespace

HookInputs::HookInputs(const Variant& variant, const harness::HostProblem& problem) {
  for (const ParamDecl& decl : variant.params()) {
    if (const auto given = problem.params.find(decl.name); given != problem.params.end()) {
      params_.emplace(decl.name, given->second);
    } else if (decl.default_value) {
      params_.emplace(decl.name, *decl.default_value);
    }
  }
  for (const TensorDecl& decl : variant.tensors()) {
    const auto given = problem.tensors.find(decl.name);
    if (given == problem.tensors.end()) continue;
    const HostTensor& tensor = given->second;
    Stored stored;
    stored.extent.assign(tensor.shape.begin(), tensor.shape.end());
    stored.stride.assign(tensor.shape.size(), 1);
    for (std::size_t d = tensor.shape.size(); d-- > 1;) {
      stored.stride[d - 1] = stored.stride[d] * tensor.shape[d];
    }
    for (const double value : tensor.data) store(stored.bytes, decl.element, value);
    // A zero-sized tensor still gets a valid pointer, as a device allocation would.
    if (stored.bytes.empty()) stored.bytes.resize(1);
    tensors_.emplace(decl.name, std::move(stored));
  }
}

const ParamValue& HookInputs::param(std::string_view name) const {
  const auto found = params_.find(name);
  if (found == params_.end()) throw std::logic_error("param '" + std::string(name) + "' unset");
  return found->second;
}

const HookInputs::Stored& HookInputs::find(std::string_view name) const {
  const auto found = tensors_.find(name);
  if (found == tensors_.end()) throw std::logic_error("tensor '" + std::string(name) + "' unset");
  return found->second;
}

int HookInputs::param_i32(std::string_view name) const {
  return std::get<std::int32_t>(param(name));
}
float HookInputs::param_f32(std::string_view name) const { return std::get<float>(param(name)); }
bool HookInputs::param_bool(std::string_view name) const { return std::get<bool>(param(name)); }

}  // namespace attnjit::codegen_test
