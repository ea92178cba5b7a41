#include "harness/device_problem.hpp"

#include "harness/half.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <stdexcept>

namespace attnjit::harness {
namespace {

// [b, h, s, d] contiguous host elements of `size` bytes to the device layout.
std::vector<std::uint8_t> arrange(const std::vector<std::uint8_t>& bytes, std::size_t size,
                                  long long batch, long long heads, long long len, long long dim,
                                  Layout layout) {
  if (layout == Layout::BHSD) return bytes;
  std::vector<std::uint8_t> out(bytes.size());
  for (long long b = 0; b < batch; ++b) {
    for (long long h = 0; h < heads; ++h) {
      for (long long s = 0; s < len; ++s) {
        std::memcpy(&out[static_cast<std::size_t>(((b * len + s) * heads + h) * dim) * size],
                    &bytes[static_cast<std::size_t>(((b * heads + h) * len + s) * dim) * size],
                    static_cast<std::size_t>(dim) * size);
      }
    }
  }
  return out;
}

std::vector<unsigned char> tensor_bytes(const TensorDecl& decl, const HostTensor& tensor) {
  std::vector<unsigned char> out;
  auto append = [&out](const auto value) {
    const std::size_t at = out.size();
    out.resize(at + sizeof value);
    std::memcpy(out.data() + at, &value, sizeof value);
  };
  for (const double x : tensor.data) {
    switch (decl.element) {
      case ElemType::I32: append(static_cast<std::int32_t>(x)); break;
      case ElemType::F32: append(static_cast<float>(x)); break;
      case ElemType::F16: append(to_fp16(static_cast<float>(x))); break;
      case ElemType::BF16: append(to_bf16(static_cast<float>(x))); break;
      case ElemType::U8:
      case ElemType::Bool: append(static_cast<std::uint8_t>(x)); break;
      case ElemType::F8E4M3:
      case ElemType::F8E5M2: throw std::logic_error("a declared tensor is never fp8");
    }
  }
  return out;
}

ElemType element_type(DType type) {
  switch (type) {
    case DType::F16: return ElemType::F16;
    case DType::BF16: return ElemType::BF16;
    case DType::FP8E4M3: return ElemType::F8E4M3;
    case DType::FP8E5M2: return ElemType::F8E5M2;
  }
  return ElemType::F16;
}

std::vector<std::int64_t> row_major_strides(const std::vector<std::int64_t>& shape) {
  std::vector<std::int64_t> strides(shape.size(), 1);
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return strides;
}

}  // namespace

DeviceProblem::DeviceProblem(const Context& context, const Variant& variant,
                             const HostProblem& host, Layout layout, bool with_lse)
    : in_type_(variant.dtype()),
      out_type_(variant.out_dtype()),
      device_(context.ordinal()),
      layout_(layout),
      shape_(host.shape),
      head_dim_v_(variant.head_dim_v()) {
  const AttentionShape& s = host.shape;
  const long long d = variant.head_dim();
  const long long dv = variant.head_dim_v();
  auto upload = [&](const std::vector<std::uint8_t>& bytes, long long heads, long long len,
                    long long dim) {
    const std::vector<std::uint8_t> arranged =
        arrange(bytes, storage_size(in_type_), s.batch, heads, len, dim, layout);
    buffers_.emplace_back(context, std::max<std::size_t>(arranged.size(), 16));
    buffers_.back().upload(arranged.data(), arranged.size());
    return place(buffers_.back(), heads, len, dim);
  };
  buffers_.reserve(10 + variant.tensors().size());
  problem_.shape = s;
  problem_.q = upload(host.q_bytes, s.heads, s.q_len, d);
  if (const int page = variant.kv_page_size(); page > 0) {
    const long long per_entry = (s.kv_len + page - 1) / page;
    // One spare page that no entry uses, so that ids are not simply dense.
    std::vector<std::int32_t> order(static_cast<std::size_t>(s.batch * per_entry + 1));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937(7));
    page_ids_.assign(order.begin(), order.end() - 1);
    problem_.k = upload_paged(context, host.k_bytes, d, page);
    problem_.v = upload_paged(context, host.v_bytes, dv, page);
  } else {
    problem_.k = upload(host.k_bytes, s.kv_heads, s.kv_len, d);
    problem_.v = upload(host.v_bytes, s.kv_heads, s.kv_len, dv);
  }
  buffers_.emplace_back(
      context, std::max<std::size_t>(static_cast<std::size_t>(s.batch * s.heads * s.q_len * dv) *
                                         storage_size(out_type_),
                                     16));
  problem_.o = place(buffers_.back(), s.heads, s.q_len, dv);
  buffers_.emplace_back(
      context,
      std::max<std::size_t>(static_cast<std::size_t>(s.batch * s.heads * s.q_len) * 4, 16));
  problem_.lse = with_lse ? buffers_.back().ptr() : 0;
  problem_.params = host.params;
  for (const TensorDecl& decl : variant.tensors()) {
    const HostTensor& tensor = host.tensors.at(decl.name);
    const std::vector<unsigned char> bytes = tensor_bytes(decl, tensor);
    buffers_.emplace_back(context, std::max<std::size_t>(bytes.size(), 16));
    buffers_.back().upload(bytes.data(), bytes.size());
    problem_.tensors[decl.name] =
        DeviceTensor{buffers_.back().ptr(), tensor.shape, row_major_strides(tensor.shape)};
    tensor_types_.emplace(decl.name, decl.element);
  }
  // int32 or float vectors, contiguous.
  auto upload_array = [&](const auto& values, const std::vector<std::int64_t>& shape) {
    const std::size_t bytes = values.size() * sizeof(values[0]);
    buffers_.emplace_back(context, std::max<std::size_t>(bytes, 16));
    buffers_.back().upload(values.data(), bytes);
    return DeviceTensor{buffers_.back().ptr(), shape, row_major_strides(shape)};
  };
  if (variant.kv_page_size() > 0) {
    problem_.page_table =
        upload_array(page_ids_, {s.batch, static_cast<std::int64_t>(page_ids_.size()) / s.batch});
  }
  if (!host.kv_lens.empty()) {
    const std::vector<std::int32_t> lens(host.kv_lens.begin(), host.kv_lens.end());
    problem_.kv_lens = upload_array(lens, {s.batch});
  }
  if (!host.q_descale.empty()) {
    const auto shape = [&](const DescaleShape& d) {
      return host.fp8_block_scales ? std::vector<std::int64_t>{d.batch, d.heads, d.blocks}
                                   : std::vector<std::int64_t>{d.batch, d.heads};
    };
    problem_.q_descale = upload_array(host.q_descale, shape(q_descale_shape(s)));
    // No keys have no blocks of K, and nothing to upload: absent reads as 1.
    if (!host.k_descale.empty()) {
      problem_.k_descale = upload_array(host.k_descale, shape(k_descale_shape(s)));
    }
    problem_.v_descale =
        upload_array(host.v_descale, shape(v_descale_shape(s, variant.head_dim_v())));
  }
}

DeviceTensor DeviceProblem::upload_paged(const Context& context,
                                         const std::vector<std::uint8_t>& bytes, long long dim,
                                         int page) {
  const AttentionShape& s = shape_;
  const long long per_entry = (s.kv_len + page - 1) / page;
  const long long pages = s.batch * per_entry + 1;
  // [pages, kv_heads, page, dim] in BHSD; [pages, page, kv_heads, dim] in BSHD.
  DeviceTensor t;
  t.shape = {pages, s.kv_heads, page, dim};
  if (layout_ == Layout::BHSD) {
    t.strides = {s.kv_heads * page * dim, page * dim, dim, 1};
  } else {
    t.strides = {page * s.kv_heads * dim, dim, s.kv_heads * dim, 1};
  }
  const std::size_t size = storage_size(in_type_);
  std::vector<std::uint8_t> paged(static_cast<std::size_t>(pages * s.kv_heads * page * dim) * size);
  for (long long b = 0; b < s.batch; ++b) {
    for (long long h = 0; h < s.kv_heads; ++h) {
      for (long long key = 0; key < s.kv_len; ++key) {
        const long long id = page_ids_[static_cast<std::size_t>(b * per_entry + key / page)];
        const long long at = id * t.strides[0] + h * t.strides[1] + (key % page) * t.strides[2];
        const long long from = ((b * s.kv_heads + h) * s.kv_len + key) * dim;
        std::memcpy(&paged[static_cast<std::size_t>(at) * size],
                    &bytes[static_cast<std::size_t>(from) * size],
                    static_cast<std::size_t>(dim) * size);
      }
    }
  }
  buffers_.emplace_back(context, std::max<std::size_t>(paged.size(), 16));
  buffers_.back().upload(paged.data(), paged.size());
  t.data = buffers_.back().ptr();
  return t;
}

DeviceTensor DeviceProblem::place(DeviceBuffer& buffer, long long heads, long long len,
                                  long long dim) const {
  DeviceTensor t;
  t.data = buffer.ptr();
  t.shape = {shape_.batch, heads, len, dim};
  if (layout_ == Layout::BHSD) {
    t.strides = {heads * len * dim, len * dim, dim, 1};
  } else {
    t.strides = {len * heads * dim, dim, heads * dim, 1};
  }
  return t;
}

FwdInputs DeviceProblem::inputs() const {
  const auto view = [&](const DeviceTensor& t, ElemType type) {
    return TensorView{device_pointer(t.data), type, t.shape, t.strides, device_};
  };
  FwdInputs out;
  out.q = view(problem_.q, element_type(in_type_));
  out.k = view(problem_.k, element_type(in_type_));
  out.v = view(problem_.v, element_type(in_type_));
  out.o = view(problem_.o, element_type(out_type_));
  out.params = problem_.params;
  if (problem_.page_table.data != 0) out.page_table = view(problem_.page_table, ElemType::I32);
  if (problem_.kv_lens.data != 0) out.kv_lens = view(problem_.kv_lens, ElemType::I32);
  if (problem_.q_descale.data != 0) {
    out.q_descale = view(problem_.q_descale, ElemType::F32);
    out.k_descale = view(problem_.k_descale, ElemType::F32);
    out.v_descale = view(problem_.v_descale, ElemType::F32);
  }
  if (problem_.lse != 0) {
    out.lse = view(DeviceTensor{problem_.lse,
                                {shape_.batch, shape_.heads, shape_.q_len},
                                {shape_.heads * shape_.q_len, shape_.q_len, 1}},
                   ElemType::F32);
  }
  for (const auto& [name, tensor] : problem_.tensors) {
    out.tensors.emplace(name, view(tensor, tensor_types_.at(name)));
  }
  return out;
}

void DeviceProblem::poison_outputs() {
  buffers_[3].fill_bytes(0xff);
  buffers_[4].fill_bytes(0xff);
}

std::vector<double> DeviceProblem::output() const {
  const AttentionShape& s = shape_;
  const long long dv = head_dim_v_;
  const std::size_t size = storage_size(out_type_);
  std::vector<double> out(static_cast<std::size_t>(s.batch * s.heads * s.q_len * dv));
  std::vector<std::uint8_t> bytes(out.size() * size);
  buffers_[3].download(bytes.data(), bytes.size());
  const DeviceTensor& o = problem_.o;
  for (long long b = 0; b < s.batch; ++b) {
    for (long long h = 0; h < s.heads; ++h) {
      for (long long q = 0; q < s.q_len; ++q) {
        for (long long c = 0; c < dv; ++c) {
          const long long at = b * o.strides[0] + h * o.strides[1] + q * o.strides[2] + c;
          out[static_cast<std::size_t>(((b * s.heads + h) * s.q_len + q) * dv + c)] =
              load(out_type_, &bytes[static_cast<std::size_t>(at) * size]);
        }
      }
    }
  }
  return out;
}

std::vector<double> DeviceProblem::lse() const {
  std::vector<float> values(static_cast<std::size_t>(shape_.batch * shape_.heads * shape_.q_len));
  buffers_[4].download(values.data(), values.size() * 4);
  return {values.begin(), values.end()};
}

}  // namespace attnjit::harness
