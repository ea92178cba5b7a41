#include "harness/host_problem.hpp"

#include "harness/fp8.hpp"
#include "harness/half.hpp"
#include "reference/parallel_slices.hpp"
#include "templates/attnjit/fwd_args.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>
#include <stdexcept>

namespace attnjit::harness {
namespace {

std::int64_t extent(const Dim& dim, const AttentionShape& shape,
                    std::map<std::string, std::int64_t>& free, std::mt19937_64& random) {
  if (const std::optional<std::int64_t> tied = dim_extent(dim, shape)) return *tied;
  const auto [it, inserted] = free.emplace(std::get<std::string>(dim), 0);
  if (inserted) it->second = std::uniform_int_distribution<std::int64_t>(1, 64)(random);
  return it->second;
}

// Values that make masks interesting: few distinct small ints (document ids,
// buckets), fair coins, unit normals rounded to the element type.
HostTensor random_tensor(const TensorDecl& decl, const AttentionShape& shape,
                         std::map<std::string, std::int64_t>& free, std::mt19937_64& random) {
  HostTensor tensor;
  std::int64_t count = 1;
  for (const Dim& dim : decl.dims) {
    tensor.shape.push_back(extent(dim, shape, free, random));
    count *= tensor.shape.back();
  }
  std::normal_distribution<double> normal;
  std::uniform_int_distribution<int> small(0, 7);
  tensor.data.resize(static_cast<std::size_t>(count));
  const bool ints = decl.element == ElemType::I32 || decl.element == ElemType::U8;
  for (double& x : tensor.data) {
    switch (decl.element) {
      case ElemType::I32:
      case ElemType::U8: x = small(random); break;
      case ElemType::Bool: x = small(random) % 2; break;
      case ElemType::F32: x = static_cast<float>(normal(random)); break;
      case ElemType::F16: x = from_fp16(to_fp16(static_cast<float>(normal(random)))); break;
      case ElemType::BF16: x = from_bf16(to_bf16(static_cast<float>(normal(random)))); break;
      case ElemType::F8E4M3:
      case ElemType::F8E5M2: throw std::logic_error("a declared tensor is never fp8");
    }
  }
  // Ids ascend along the last dimension, as document ids of packed sequences
  // do, so masks over them have empty, full and partial tiles alike.
  const auto row = static_cast<std::ptrdiff_t>(tensor.shape.back());
  for (auto first = tensor.data.begin(); ints && row > 0 && first != tensor.data.end();
       first += row) {
    std::sort(first, first + row);
  }
  return tensor;
}

ParamValue random_param(const ParamDecl& decl, const AttentionShape& shape,
                        std::mt19937_64& random) {
  switch (decl.type) {
    case ParamType::I32: {
      const auto top = static_cast<std::int32_t>(std::max<std::int64_t>(shape.kv_len, 1));
      return std::uniform_int_distribution<std::int32_t>(1, top)(random);
    }
    case ParamType::F32: return static_cast<float>(std::normal_distribution<double>()(random));
    case ParamType::Bool: return std::uniform_int_distribution<int>(0, 3)(random) != 0;
  }
  return std::int32_t{0};
}

// Elements a generator draws: pieces of a plane, each with its own seed, so
// that a seed gives the same inputs on any number of cores.
constexpr std::int64_t kDrawPiece = std::int64_t{1} << 16;

// The seed of piece `piece` of the stream `stream` (splitmix64's mix), so
// that neighbouring pieces start far apart.
std::uint64_t piece_seed(std::uint64_t stream, std::int64_t piece) {
  std::uint64_t z = stream + 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(piece + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// `heads` planes of `per_head` normals in the storage type. fp8 planes are
// quantised as fp8 models quantise them, which exercises the kernel's
// descales: each of a plane's `blocks` blocks (element i of a plane is in
// block block_of(i)) scaled so that its largest magnitude is the format's
// largest value, with the inverse scale as the descale (1 for an all-zero
// block), plane after plane. fp8 planes draw their pieces twice (for the
// maxima, then for the values) rather than hold every draw.
// `channel_scale` (empty: 1) multiplies element i by channel_scale[i % its size].
void fill(std::vector<std::uint8_t>& bytes, std::vector<double>& values,
          std::vector<float>& descales, std::int64_t heads, std::int64_t per_head, DType type,
          std::mt19937_64& random, double deviation = 1.0,
          const std::vector<float>& channel_scale = {}, std::int64_t blocks = 1,
          const std::function<std::int64_t(std::int64_t)>& block_of = {}) {
  const bool fp8 = type == DType::FP8E4M3 || type == DType::FP8E5M2;
  const float largest = type == DType::FP8E4M3 ? kE4M3Max : kE5M2Max;
  const std::size_t size = storage_size(type);
  const std::uint64_t stream = random();
  const std::int64_t pieces = (per_head + kDrawPiece - 1) / kDrawPiece;  // a plane's
  const auto block = [&](std::int64_t i) {
    return static_cast<std::size_t>(block_of ? block_of(i) : 0);
  };
  // Calls emit(head, i, x) for element i of the plane of piece `piece`.
  const auto draw = [&](std::int64_t piece, const auto& emit) {
    const std::int64_t head = piece / pieces;
    const std::int64_t begin = piece % pieces * kDrawPiece;
    std::mt19937_64 piece_random(piece_seed(stream, piece));
    std::normal_distribution<float> normal(0.0F, static_cast<float>(deviation));
    for (std::int64_t i = begin; i < std::min(per_head, begin + kDrawPiece); ++i) {
      float x = normal(piece_random);
      if (!channel_scale.empty())
        x *= channel_scale[static_cast<std::size_t>(i) % channel_scale.size()];
      emit(head, i, x);
    }
  };
  const auto per_plane = static_cast<std::size_t>(blocks);
  std::vector<float> descale(static_cast<std::size_t>(heads) * per_plane, 1.0F);
  if (fp8) {
    reference::parallel_slices(heads, 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t head = first; head < last; ++head) {
        std::vector<float> amax(per_plane, 0.0F);
        for (std::int64_t piece = head * pieces; piece < (head + 1) * pieces; ++piece) {
          draw(piece, [&](std::int64_t /*head*/, std::int64_t i, float x) {
            amax[block(i)] = std::max(amax[block(i)], std::fabs(x));
          });
        }
        for (std::size_t j = 0; j < per_plane; ++j) {
          if (amax[j] > 0.0F)
            descale[static_cast<std::size_t>(head) * per_plane + j] = amax[j] / largest;
        }
      }
    });
    descales.insert(descales.end(), descale.begin(), descale.end());
  }
  const auto count = static_cast<std::size_t>(heads * per_head);
  bytes.resize(count * size);
  values.resize(count);
  reference::parallel_slices(heads * pieces, 1, [&](std::int64_t first, std::int64_t last) {
    for (std::int64_t piece = first; piece < last; ++piece) {
      draw(piece, [&](std::int64_t head, std::int64_t i, float x) {
        const auto at = static_cast<std::size_t>(head * per_head + i);
        const float factor = descale[static_cast<std::size_t>(head) * per_plane + block(i)];
        store(type, x / factor, &bytes[at * size]);
        values[at] = static_cast<double>(load(type, &bytes[at * size])) * factor;
      });
    }
  });
}

}  // namespace

ReferenceInputs HostProblem::reference_inputs() const {
  ReferenceInputs inputs;
  inputs.shape = shape;
  inputs.q = q;
  inputs.k = k;
  inputs.v = v;
  inputs.params = params;
  inputs.tensors = tensors;
  inputs.kv_lens = kv_lens;
  return inputs;
}

HostProblem random_problem(const Variant& variant, const AttentionShape& shape,
                           const ProblemOptions& options) {
  std::mt19937_64 random(options.seed);
  HostProblem problem;
  problem.shape = shape;
  const std::int64_t d = variant.head_dim();
  const std::int64_t dv = variant.head_dim_v();
  const DType type = variant.dtype();
  std::vector<float> channel_scale;
  if (options.outlier_channels > 0) {
    channel_scale.assign(static_cast<std::size_t>(d), 1.0F);
    std::uniform_int_distribution<std::int64_t> channel(0, d - 1);
    std::uniform_real_distribution<float> factor(10.0F, 100.0F);
    for (int i = 0; i < options.outlier_channels; ++i) {
      channel_scale[static_cast<std::size_t>(channel(random))] = factor(random);
    }
  }
  // fp8 factors per head, or per query row, block of K keys and V channel.
  const bool blocks = options.fp8_block_scales;
  problem.fp8_block_scales = blocks;
  constexpr std::int64_t kKeys = aj::kFp8KBlockKeys;
  fill(problem.q_bytes, problem.q, problem.q_descale, shape.batch * shape.heads, shape.q_len * d,
       type, random, options.qk_scale, channel_scale, blocks ? shape.q_len : 1,
       [&](std::int64_t i) { return blocks ? i / d : 0; });
  fill(problem.k_bytes, problem.k, problem.k_descale, shape.batch * shape.kv_heads,
       shape.kv_len * d, type, random, options.qk_scale, channel_scale,
       blocks ? (shape.kv_len + kKeys - 1) / kKeys : 1,
       [&](std::int64_t i) { return blocks ? i / d / kKeys : 0; });
  fill(problem.v_bytes, problem.v, problem.v_descale, shape.batch * shape.kv_heads,
       shape.kv_len * dv, type, random, 1.0, {}, blocks ? dv : 1,
       [&](std::int64_t i) { return blocks ? i % dv : 0; });
  for (const ParamDecl& param : variant.params()) {
    if (auto given = options.params.find(param.name); given != options.params.end()) {
      problem.params[param.name] = given->second;
    } else if (!param.default_value || options.draw_defaulted_params) {
      problem.params[param.name] = random_param(param, shape, random);
    }
  }
  std::map<std::string, std::int64_t> free;
  for (const TensorDecl& tensor : variant.tensors()) {
    problem.tensors[tensor.name] = random_tensor(tensor, shape, free, random);
  }
  // Bucket ids as an LSH gives them, in [0, buckets), so that rows share buckets.
  if (const std::optional<HashSparsity> hash = variant.hash_sparsity()) {
    std::uniform_int_distribution<int> bucket(0, hash->buckets - 1);
    for (const std::string_view name : {kQueryBucketTensor, kKeyBucketTensor}) {
      for (double& id : problem.tensors[std::string(name)].data) id = bucket(random);
    }
  }
  if (options.ragged) {
    std::uniform_int_distribution<std::int64_t> keys(0, shape.kv_len);
    for (std::int64_t b = 0; b < shape.batch; ++b) {
      problem.kv_lens.push_back(b == 0 ? shape.kv_len : b == 1 ? 0 : keys(random));
    }
  }
  return problem;
}

namespace {

bool causal_only(const Variant& variant) {
  if (variant.mask().size() != 1) return false;
  const auto* builtin = variant.mask().front()->as<ir::BuiltinRef>();
  return builtin != nullptr && builtin->which == ir::Builtin::Causal;
}

// Query q sees keys 0 ..= q + kv_len - q_len: counted in closed form, as the
// interpreter would take minutes over long sequences.
std::int64_t causal_pairs(const AttentionShape& s) {
  std::int64_t pairs = 0;
  for (std::int64_t q = 0; q < s.q_len; ++q) {
    pairs += std::clamp<std::int64_t>(q + s.kv_len - s.q_len + 1, 0, s.kv_len);
  }
  return pairs;
}

}  // namespace

double attention_flops(const Variant& variant, const HostProblem& problem) {
  const AttentionShape& s = problem.shape;
  const std::int64_t pairs = variant.mask().empty() ? s.q_len * s.kv_len
                             : causal_only(variant)
                                 ? causal_pairs(s)
                                 : unmasked_pairs(variant, problem.reference_inputs(), 0, 0);
  return 4.0 * static_cast<double>(s.batch * s.heads) * static_cast<double>(pairs) *
         variant.head_dim();
}

}  // namespace attnjit::harness
