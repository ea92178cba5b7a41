#include "runtime/fwd_launch.hpp"

#include "codegen/fa3_kernel.hpp"
#include "codegen/int_range.hpp"
#include "codegen/io_rules.hpp"
#include "runtime/decode_launch.hpp"
#include "runtime/sage_launch.hpp"
#include "runtime/tma_maps.hpp"
#include "templates/attnjit/fwd_args.h"
#include <attnjit/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace attnjit {
namespace {

// Tiles a classifier warp takes (FwdArgs::class_lanes): the fewest that let
// all of its warps be resident at once. A warp reads the tensors of two of
// its tiles in one memory latency (aj::iv_fold), so a second wave of warps
// costs more than a second tile a warp, while fewer tiles a warp spread the
// reads of small tables over more warps.
int classifier_lanes(std::int64_t tiles, std::int64_t resident_warps) {
  int lanes = 1;
  while (lanes < 32 && (tiles + lanes - 1) / lanes > resident_warps) lanes *= 2;
  return lanes;
}

// The kernels read rows in 16-byte pieces (cp.async, TMA).
void check_qkvo(const char* name, const DeviceTensor& t, const std::vector<std::int64_t>& shape,
                std::int64_t element_bytes) {
  if (t.shape != shape) {
    std::string want;
    for (const std::int64_t s : shape) want += (want.empty() ? "" : ", ") + std::to_string(s);
    throw InputError(fmt::format("{} must have shape [{}]", name, want));
  }
  if (t.strides.size() != 4 || t.strides[3] != 1) {
    throw InputError(fmt::format("{} must have 4 strides with a contiguous last dimension", name));
  }
  // Every row starts on 16 bytes only where the batch and head strides keep
  // it there too; a misaligned copy would stop the kernel with an error of
  // the CUDA context, which no later call on it survives.
  const bool aligned = std::all_of(t.strides.begin(), t.strides.begin() + 3,
                                   [&](std::int64_t s) { return (s * element_bytes) % 16 == 0; });
  if (t.data % 16 != 0 || !aligned) {
    throw InputError(fmt::format(
        "{} must start on 16 bytes and have batch, head and row strides that are multiples of "
        "16 bytes; its strides are [{}] elements",
        name, fmt::join(t.strides, ", ")));
  }
}

aj::Descale descale_arg(const DeviceTensor& t) {
  aj::Descale out{};
  out.data = static_cast<const float*>(device_pointer(t.data));
  for (std::size_t i = 0; t.data != 0 && i < t.strides.size(); ++i) out.stride[i] = t.strides[i];
  return out;
}

// V of an fp8 variant in the layout the Hopper kernel reads (fp8_layout.cuh),
// into `vt`: [batch, kv_heads, head_dim_v, padded_len] bytes.
void lay_out_fp8_v(const Driver& driver, CUfunction layout, const FwdProblem& problem,
                   const DeviceTensor& vt, CUstream stream) {
  const AttentionShape& s = problem.shape;
  aj::Fp8VLayoutArgs args{};
  args.v = static_cast<const unsigned char*>(device_pointer(problem.v.data));
  for (int i = 0; i < 3; ++i) args.v_stride[i] = problem.v.strides[i];
  args.vt = static_cast<unsigned char*>(device_pointer(vt.data));
  args.kv_heads = static_cast<int>(s.kv_heads);
  args.kv_len = static_cast<int>(s.kv_len);
  args.padded_len = static_cast<int>(vt.shape[3]);
  args.head_dim_v = static_cast<int>(vt.shape[2]);
  const std::int64_t tile = codegen::kFp8VTile;
  const Dim3 grid{static_cast<unsigned>((vt.shape[3] + tile - 1) / tile),
                  static_cast<unsigned>(vt.shape[2] / tile),
                  static_cast<unsigned>(s.batch * s.kv_heads)};
  void* pointers[] = {&args};
  launch(driver, layout, grid, Dim3{codegen::kFp8VThreads}, 0, stream, pointers);
}

// TensorArg<Rank> as bytes: the generator declares it as {data, extent[R], stride[R]}.
std::vector<unsigned char> tensor_arg(const std::string& name, const TensorDecl& decl,
                                      const DeviceTensor& t, const AttentionShape& shape,
                                      std::map<std::string, std::int64_t>& free_sizes) {
  const std::size_t rank = decl.dims.size();
  if (t.shape.size() != rank || t.strides.size() != rank) {
    throw InputError(fmt::format("tensor '{}' must have {} dimensions", name, rank));
  }
  for (std::size_t d = 0; d < rank; ++d) {
    std::int64_t want = 0;
    if (const std::optional<std::int64_t> tied = dim_extent(decl.dims[d], shape)) {
      want = *tied;
    } else {
      const auto [it, inserted] =
          free_sizes.emplace(std::get<std::string>(decl.dims[d]), t.shape[d]);
      want = it->second;
    }
    if (t.shape[d] != want) {
      throw InputError(
          fmt::format("tensor '{}' dimension {} is {}, expected {}", name, d, t.shape[d], want));
    }
  }
  std::vector<unsigned char> bytes(sizeof(void*) + 2 * rank * sizeof(std::int64_t));
  const void* data = device_pointer(t.data);
  std::memcpy(bytes.data(), &data, sizeof data);
  std::memcpy(bytes.data() + sizeof data, t.shape.data(), rank * sizeof(std::int64_t));
  std::memcpy(bytes.data() + sizeof data + rank * sizeof(std::int64_t), t.strides.data(),
              rank * sizeof(std::int64_t));
  return bytes;
}

using ParamValues = std::map<std::string, ParamValue, std::less<>>;
using DeviceTensors = std::map<std::string, DeviceTensor, std::less<>>;

std::vector<unsigned char> param_arg(const ParamDecl& decl, const ParamValues& params) {
  ParamValue value;
  if (auto it = params.find(decl.name); it != params.end()) {
    value = it->second;
  } else if (decl.default_value) {
    value = *decl.default_value;
  } else {
    throw InputError(fmt::format("param '{}' has no default and was not given", decl.name));
  }
  if (param_value_type(value) != decl.type) {
    throw InputError(fmt::format("param '{}' must be {}", decl.name, param_type_name(decl.type)));
  }
  return std::visit(
      [](auto v) {
        std::vector<unsigned char> bytes(sizeof v);
        std::memcpy(bytes.data(), &v, sizeof v);
        return bytes;
      },
      value);
}

// The variant's kernel arguments after the family's own: params, then
// tensors, each in name order (codegen::variant_arguments).
std::vector<std::vector<unsigned char>> variant_args(const Variant& variant,
                                                     const AttentionShape& shape,
                                                     const ParamValues& params,
                                                     const DeviceTensors& tensors) {
  std::vector<std::vector<unsigned char>> args;
  for (const ParamDecl& param : variant.params()) args.push_back(param_arg(param, params));
  std::map<std::string, std::int64_t> free_sizes;
  for (const TensorDecl& tensor : variant.tensors()) {
    const auto it = tensors.find(tensor.name);
    if (it == tensors.end())
      throw InputError(fmt::format("tensor '{}' was not given", tensor.name));
    args.push_back(tensor_arg(tensor.name, tensor, it->second, shape, free_sizes));
  }
  return args;
}

void check_shape(const AttentionShape& s) {
  if (s.batch < 1 || s.heads < 1 || s.kv_heads < 1 || s.q_len < 0 || s.kv_len < 0 ||
      s.heads % s.kv_heads != 0) {
    throw InputError("shape needs batch, heads, kv_heads >= 1 with kv_heads dividing heads");
  }
  // The generator's int bounds (codegen/int_range.hpp) assume these limits.
  if (s.q_len > codegen::kMaxSequence || s.kv_len > codegen::kMaxSequence ||
      s.heads > codegen::kMaxGridDim || s.batch > codegen::kMaxGridDim) {
    throw InputError("shape is beyond the kernel's grid limits");
  }
}

// The sizes part of the family's arguments.
aj::FwdArgs sizes_args(const AttentionShape& s) {
  aj::FwdArgs args{};
  args.batch = static_cast<int>(s.batch);
  args.heads = static_cast<int>(s.heads);
  args.kv_heads = static_cast<int>(s.kv_heads);
  args.q_len = static_cast<int>(s.q_len);
  args.kv_len = static_cast<int>(s.kv_len);
  return args;
}

// Points args at a class table laid out as `layout` at `table`.
void point_at_table(aj::FwdArgs& args, const codegen::ClassTableLayout& layout, CUdeviceptr table) {
  args.tile_class = static_cast<unsigned char*>(device_pointer(table));
  args.tile_span =
      static_cast<unsigned*>(device_pointer(table + static_cast<CUdeviceptr>(layout.spans_at)));
}

// The classifier (codegen/class_table.hpp) into the table at `table`, which
// args point at; `extra` are the variant's arguments.
void classify_into(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                   aj::FwdArgs args, std::vector<std::vector<unsigned char>>& extra,
                   const codegen::ClassTableLayout& layout, CUdeviceptr table, CUstream stream) {
  const std::int64_t tiles = layout.tiles;
  if (tiles >= (std::int64_t{1} << 31)) {
    throw InputError(
        fmt::format("variant '{}': {} tiles to classify, more than 2^31", variant.name(), tiles));
  }
  args.class_lanes = classifier_lanes(tiles, functions.classify_warps);
  driver.memset_d8_async(table + static_cast<CUdeviceptr>(layout.spans_at), 0,
                         static_cast<std::size_t>(layout.rows * 8), stream);
  // The classifier takes the forward kernel's arguments less the TMA maps.
  std::vector<void*> pointers{&args};
  for (auto& bytes : extra) pointers.push_back(bytes.data());
  const std::int64_t threads = (tiles + args.class_lanes - 1) / args.class_lanes * 32;
  const Dim3 grid{
      static_cast<unsigned>((threads + codegen::kClassifyThreads - 1) / codegen::kClassifyThreads)};
  launch(driver, functions.classify, grid, Dim3{codegen::kClassifyThreads}, 0, stream,
         pointers.data());
}

}  // namespace

DeviceTensor contiguous(CUdeviceptr base, std::size_t offset, std::vector<std::int64_t> shape) {
  DeviceTensor t;
  t.data = base + offset;
  t.strides.assign(shape.size(), 1);
  for (std::size_t d = shape.size() - 1; d > 0; --d) t.strides[d - 1] = t.strides[d] * shape[d];
  t.shape = std::move(shape);
  return t;
}

DescaleShape q_descale_shape(const AttentionShape& s) {
  return {s.batch, s.heads, "heads", s.q_len, "q_len"};
}

DescaleShape k_descale_shape(const AttentionShape& s) {
  return {s.batch, s.kv_heads, "kv_heads", (s.kv_len + aj::kFp8KBlockKeys - 1) / aj::kFp8KBlockKeys,
          "ceil(kv_len / 64)"};
}

DescaleShape v_descale_shape(const AttentionShape& s, std::int64_t head_dim_v) {
  return {s.batch, s.kv_heads, "kv_heads", head_dim_v, "head_dim_v"};
}

void check_descale(std::string_view name, const DeviceTensor& t, const DescaleShape& shape) {
  static_assert(aj::kFp8KBlockKeys == 64, "the message's block");
  if (t.data == 0) return;
  if (t.shape != std::vector<std::int64_t>{shape.batch, shape.heads} &&
      t.shape != std::vector<std::int64_t>{shape.batch, shape.heads, shape.blocks}) {
    throw InputError(fmt::format(
        "{} must be [batch, {}] = [{}, {}] or [batch, {}, {}] = [{}, {}, {}], not [{}]", name,
        shape.heads_name, shape.batch, shape.heads, shape.heads_name, shape.blocks_name,
        shape.batch, shape.heads, shape.blocks, fmt::join(t.shape, ", ")));
  }
  if (std::any_of(t.strides.begin(), t.strides.end(), [](std::int64_t x) { return x < 0; })) {
    throw InputError(
        fmt::format("{} has a negative stride: [{}]", name, fmt::join(t.strides, ", ")));
  }
}

FwdFunctions fwd_functions(const Driver& driver, const Module& module,
                           const codegen::GeneratedKernel& kernel, const std::string& entry,
                           const Variant& variant) {
  FwdFunctions functions;
  functions.forward = module.function(entry);
  functions.overlap =
      driver.attribute(driver.current_device(), CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR) >= 9;
  if (kernel.decode) find_decode_functions(driver, module, kernel, functions);
  if (kernel.persistent) {
    functions.persistent_ctas =
        driver.attribute(driver.current_device(), CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  }
  // The decode family evaluates a mask of tensors per element, without a table.
  if (!kernel.decode) functions.class_table = codegen::class_table(variant);
  if (!kernel.decode && codegen::fp8_inputs(variant)) {
    functions.fp8_v_layout = module.function(std::string(codegen::kFp8VLayoutEntry));
    functions.fp8_block_scales = module.function(std::string(codegen::kFp8BlockScalesEntry));
  }
  if (!kernel.decode && variant.quant()) {
    functions.sage =
        SageFunctions{module.function(std::string(codegen::kSageStatsEntry)),
                      module.function(std::string(codegen::kSageQuantKEntry)),
                      module.function(std::string(codegen::kSageQuantQEntry)), nullptr};
    if (codegen::eight_bit_v(variant)) {
      functions.sage->v_layout = module.function(std::string(codegen::kSageVLayoutEntry));
    }
  }
  if (functions.class_table) {
    functions.classify = module.function(std::string(codegen::kClassifyEntry));
    const int per_sm = driver.max_active_blocks(functions.classify, codegen::kClassifyThreads, 0);
    const int sms =
        driver.attribute(driver.current_device(), CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    functions.classify_warps = std::max(1, per_sm * sms * (codegen::kClassifyThreads / 32));
    functions.block_mask = module.function(std::string(codegen::kBlockMaskEntry));
  }
  return functions;
}

void check_fwd_tensors(const Variant& variant, bool decode, const FwdProblem& problem) {
  const AttentionShape& s = problem.shape;
  check_shape(s);
  const std::int64_t d = variant.head_dim();
  const std::int64_t dv = variant.head_dim_v();
  const std::int64_t e = codegen::input_bytes(variant);
  check_qkvo("q", problem.q, {s.batch, s.heads, s.q_len, d}, e);
  if (const std::int64_t page = variant.kv_page_size(); page > 0) {
    // Paged: [pages, kv_heads, page, d], any number of pages.
    const std::int64_t pages = problem.k.shape.empty() ? 0 : problem.k.shape[0];
    check_qkvo("k", problem.k, {pages, s.kv_heads, page, d}, e);
    check_qkvo("v", problem.v, {pages, s.kv_heads, page, dv}, e);
  } else {
    check_qkvo("k", problem.k, {s.batch, s.kv_heads, s.kv_len, d}, e);
    check_qkvo("v", problem.v, {s.batch, s.kv_heads, s.kv_len, dv}, e);
  }
  if (!decode && (problem.kv_lens.data != 0 || problem.page_table.data != 0)) {
    throw InputError("kv_lens and page_table are read by the decode family only");
  }
  check_qkvo("o", problem.o, {s.batch, s.heads, s.q_len, dv}, 2);
  check_descale("q_descale", problem.q_descale, q_descale_shape(s));
  check_descale("k_descale", problem.k_descale, k_descale_shape(s));
  check_descale("v_descale", problem.v_descale, v_descale_shape(s, dv));
}

void launch_fwd(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                CUstream stream) {
  check_fwd_tensors(variant, kernel.decode.has_value(), problem);
  const AttentionShape& s = problem.shape;

  aj::FwdArgs args = sizes_args(s);
  args.q = device_pointer(problem.q.data);
  args.k = device_pointer(problem.k.data);
  args.v = device_pointer(problem.v.data);
  args.o = device_pointer(problem.o.data);
  args.lse = static_cast<float*>(device_pointer(problem.lse));
  const std::array<std::int64_t, 2> lse_strides =
      problem.lse_strides.value_or(std::array{s.heads * s.q_len, s.q_len});
  args.lse_stride[0] = lse_strides[0];
  args.lse_stride[1] = lse_strides[1];
  for (int i = 0; i < 3; ++i) {
    args.q_stride[i] = problem.q.strides[i];
    args.k_stride[i] = problem.k.strides[i];
    args.v_stride[i] = problem.v.strides[i];
    args.o_stride[i] = problem.o.strides[i];
  }
  args.scale = variant.scale();
  args.scale_log2 = static_cast<float>(static_cast<double>(variant.scale()) * M_LOG2E);
  args.q_descale = descale_arg(problem.q_descale);
  args.k_descale = descale_arg(problem.k_descale);
  args.v_descale = descale_arg(problem.v_descale);

  std::vector<std::vector<unsigned char>> extra =
      variant_args(variant, s, problem.params, problem.tensors);
  if (s.q_len == 0) return;  // nothing to compute, and a zero-sized grid is an error
  if (kernel.decode) {
    launch_decode(driver, functions, variant, kernel, problem, args, extra, stream);
    return;
  }

  // A persistent grid's counter, zeroed ahead of the auxiliary kernels so
  // that the forward kernel may still start under the last of them.
  const std::int64_t q_tiles = (s.q_len + kernel.block_m - 1) / kernel.block_m;
  const std::int64_t items = q_tiles * s.heads * s.batch;
  std::optional<StreamScratch> counter;
  if (kernel.persistent) {
    if (items > std::numeric_limits<unsigned>::max() / 2) {
      throw InputError("the shape has more query tiles than a persistent grid counts");
    }
    counter.emplace(driver, sizeof(unsigned), stream);
    driver.memset_d8_async(counter->ptr(), 0, sizeof(unsigned), stream);
    args.work_counter = static_cast<unsigned*>(device_pointer(counter->ptr()));
  }
  std::optional<StreamScratch> classes;
  const codegen::ClassTableLayout layout = tile_class_layout(functions, kernel, s);
  if (problem.tile_classes != 0) {
    point_at_table(args, layout, problem.tile_classes);
  } else if (layout.bytes() > 0) {
    classes.emplace(driver, static_cast<std::size_t>(layout.bytes()), stream);
    point_at_table(args, layout, classes->ptr());
    classify_into(driver, functions, variant, args, extra, layout, classes->ptr(), stream);
  }
  std::optional<StreamScratch> v_scratch;
  std::optional<DeviceTensor> vt;
  if (functions.fp8_v_layout != nullptr) {
    // At least 16 keys: a TMA map wants extents of 1 and more, even of no keys.
    const std::int64_t padded = std::max<std::int64_t>(16, (s.kv_len + 15) / 16 * 16);
    const std::int64_t bytes = s.batch * s.kv_heads * variant.head_dim_v() * padded;
    v_scratch.emplace(driver, static_cast<std::size_t>(bytes), stream);
    vt = contiguous(v_scratch->ptr(), 0, {s.batch, s.kv_heads, variant.head_dim_v(), padded});
    lay_out_fp8_v(driver, functions.fp8_v_layout, problem, *vt, stream);
  }
  std::optional<StreamScratch> sage_scratch;
  std::optional<SageOperands> sage;
  if (functions.sage) {
    sage = quantise_sage(driver, *functions.sage, variant, problem, sage_scratch, stream);
    args.sage = sage->scales;
  }
  std::vector<void*> pointers{&args};
  aj::FwdMaps maps{};
  if (kernel.tma_maps) {
    if (sage) {
      maps = fwd_maps(driver, variant, kernel, sage->q, sage->k, sage->v);
    } else {
      maps = fwd_maps(driver, variant, kernel, problem.q, problem.k, vt ? *vt : problem.v);
    }
    pointers.push_back(&maps);
  }
  for (auto& bytes : extra) pointers.push_back(bytes.data());
  Dim3 grid{static_cast<unsigned>(q_tiles * kernel.head_group),
            static_cast<unsigned>((s.heads + kernel.head_group - 1) / kernel.head_group),
            static_cast<unsigned>(s.batch)};
  if (kernel.persistent) {
    grid = Dim3{static_cast<unsigned>(std::min<std::int64_t>(items, functions.persistent_ctas))};
  }
  const Dim3 block{static_cast<unsigned>(kernel.threads), 1, 1};
  // Factors per Q row, 64 keys or V channel take the fp8 block kernel.
  const bool block_scales = problem.q_descale.shape.size() == 3 ||
                            problem.k_descale.shape.size() == 3 ||
                            problem.v_descale.shape.size() == 3;
  CUfunction forward = block_scales && functions.fp8_block_scales != nullptr
                           ? functions.fp8_block_scales
                           : functions.forward;
  launch(driver, forward, grid, block, static_cast<unsigned>(kernel.smem_bytes), stream,
         pointers.data(),
         functions.overlap && classes ? LaunchOrder::OverlapPrevious : LaunchOrder::AfterPrevious);
}

codegen::ClassTableLayout tile_class_layout(const FwdFunctions& functions,
                                            const codegen::GeneratedKernel& kernel,
                                            const AttentionShape& shape) {
  if (!functions.class_table || kernel.decode) return {};
  return codegen::class_table_layout(*functions.class_table, shape, kernel.block_m, kernel.block_n);
}

void launch_classify(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                     const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                     CUdeviceptr table, CUstream stream) {
  check_fwd_tensors(variant, kernel.decode.has_value(), problem);
  const AttentionShape& s = problem.shape;
  std::vector<std::vector<unsigned char>> extra =
      variant_args(variant, s, problem.params, problem.tensors);
  const codegen::ClassTableLayout layout = tile_class_layout(functions, kernel, s);
  if (layout.bytes() == 0) return;
  aj::FwdArgs args = sizes_args(s);
  point_at_table(args, layout, table);
  classify_into(driver, functions, variant, args, extra, layout, table, stream);
}

void launch_block_mask(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                       const MaskProblem& problem, BlockSparsity blocks, const DeviceTensor& out,
                       CUstream stream) {
  if (functions.block_mask == nullptr) {
    throw InputError(fmt::format(
        "variant '{}': a block mask is built from a mask that reads tensors; the kernels "
        "classify a mask of indices alone by themselves",
        variant.name()));
  }
  const AttentionShape& s = problem.shape;
  check_shape(s);
  if (blocks.block_m < 1 || blocks.block_n < 1) throw InputError("block sizes must be positive");
  const std::int64_t q_blocks = (s.q_len + blocks.block_m - 1) / blocks.block_m;
  const std::int64_t k_blocks = (s.kv_len + blocks.block_n - 1) / blocks.block_n;
  const std::vector<std::int64_t> shape{s.batch, s.heads, q_blocks, k_blocks};
  if (out.shape != shape ||
      out.strides != std::vector<std::int64_t>{s.heads * q_blocks * k_blocks, q_blocks * k_blocks,
                                               k_blocks, 1}) {
    throw InputError(fmt::format("block_mask must be a contiguous bool tensor [{}, {}, {}, {}]",
                                 s.batch, s.heads, q_blocks, k_blocks));
  }
  std::vector<std::vector<unsigned char>> extra =
      variant_args(variant, s, problem.params, problem.tensors);
  const std::int64_t count = s.batch * s.heads * q_blocks * k_blocks;
  if (count == 0) return;
  aj::FwdArgs args = sizes_args(s);
  void* out_pointer = device_pointer(out.data);
  std::vector<void*> pointers{&args, &blocks.block_m, &blocks.block_n, &out_pointer};
  for (auto& bytes : extra) pointers.push_back(bytes.data());
  const Dim3 grid{static_cast<unsigned>((count * 32 + codegen::kClassifyThreads - 1) /
                                        codegen::kClassifyThreads)};
  launch(driver, functions.block_mask, grid, Dim3{codegen::kClassifyThreads}, 0, stream,
         pointers.data());
}

}  // namespace attnjit
