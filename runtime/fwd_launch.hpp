// Launching a generated forward kernel: checks a problem against the variant
// and the kernel, then packs the arguments in the order the generator gave the
// kernel (FwdArgs, then params and tensors by name) and enqueues it.
#pragma once

#include "codegen/class_table.hpp"
#include "codegen/kernel_source.hpp"
#include "runtime/cuda_driver.hpp"
#include <attnjit/reference.hpp>
#include <attnjit/variant.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnjit {

// A tensor in device memory: extents and element strides, outermost first.
struct DeviceTensor {
  CUdeviceptr data = 0;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
};

// A row-major tensor at base + offset.
DeviceTensor contiguous(CUdeviceptr base, std::size_t offset, std::vector<std::int64_t> shape);

struct FwdProblem {
  AttentionShape shape;
  DeviceTensor q;       // [batch, heads, q_len, head_dim], the variant's dtype
  DeviceTensor k;       // [batch, kv_heads, kv_len, head_dim]
  DeviceTensor v;       // [batch, kv_heads, kv_len, head_dim_v]
  DeviceTensor o;       // [batch, heads, q_len, head_dim_v]
  CUdeviceptr lse = 0;  // [batch, heads, q_len] floats, or 0 for none
  // Its batch and head strides in floats; absent: contiguous.
  std::optional<std::array<std::int64_t, 2>> lse_strides;
  // A paged variant's K and V are [pages, kv_heads, page, d] and this table
  // int32 [batch, max_pages] (engine.hpp); data 0: none.
  DeviceTensor page_table;
  DeviceTensor kv_lens;  // int32 [batch] keys per batch entry (decode family); data 0: kv_len each
  // An fp8 variant's float dequantisation factors (FwdInputs); data 0: 1.
  DeviceTensor q_descale;  // [batch, heads]
  DeviceTensor k_descale;  // [batch, kv_heads]
  DeviceTensor v_descale;  // [batch, kv_heads]
  std::map<std::string, ParamValue, std::less<>> params;
  std::map<std::string, DeviceTensor, std::less<>> tensors;
  // The tile class table, made beforehand by launch_classify for this kernel
  // and shape; 0: the launch makes its own.
  CUdeviceptr tile_classes = 0;
};

// quant sage's quantisation kernels (codegen/fa3_kernel.hpp).
struct SageFunctions {
  CUfunction stats = nullptr;
  CUfunction quant_k = nullptr;
  CUfunction quant_q = nullptr;
  CUfunction v_layout = nullptr;  // fp8 V only
};

// The kernels of one generated module: the forward kernel (`entry`) and, for
// a mask that reads tensors, the classifier that fills its tile class table.
struct FwdFunctions {
  CUfunction forward = nullptr;
  CUfunction classify = nullptr;    // set where class_table is
  CUfunction block_mask = nullptr;  // set where class_table is
  int classify_warps = 0;           // the classifier's warps resident on the device at once
  std::optional<codegen::ClassTable> class_table;  // the variant's, found once at load
  // The decode family's plan and merge kernels, and its stream-K grid: the
  // SMs times the CTAs per SM (its config's, else as many as fit).
  CUfunction plan = nullptr;
  CUfunction merge = nullptr;
  int decode_ctas = 0;
  // A persistent kernel's most CTAs (GeneratedKernel::persistent): one per SM.
  int persistent_ctas = 0;
  CUfunction fp8_v_layout = nullptr;      // an fp8 variant's (fp8_layout.cuh)
  CUfunction fp8_block_scales = nullptr;  // its forward kernel for per-block descales
  std::optional<SageFunctions> sage;      // a quant sage variant's
  // Whether a kernel that reads an auxiliary kernel's results is launched to
  // overlap it (sm_90 and newer; templates/attnjit/grid_dependency.cuh).
  bool overlap = false;
};
FwdFunctions fwd_functions(const Driver& driver, const Module& module,
                           const codegen::GeneratedKernel& kernel, const std::string& entry,
                           const Variant& variant);

// What an fp8 variant's factors may be: [batch, heads] (one per head) or
// [batch, heads, blocks] (one per query row of Q, per block of
// aj::kFp8KBlockKeys keys of K, per channel of V).
struct DescaleShape {
  std::int64_t batch;
  std::int64_t heads;
  std::string_view heads_name;
  std::int64_t blocks;
  std::string_view blocks_name;
};
DescaleShape q_descale_shape(const AttentionShape& s);
DescaleShape k_descale_shape(const AttentionShape& s);
DescaleShape v_descale_shape(const AttentionShape& s, std::int64_t head_dim_v);

// Throws InputError unless the factors `t` (data 0: absent) have one of
// `shape`'s shapes and non-negative strides.
void check_descale(std::string_view name, const DeviceTensor& t, const DescaleShape& shape);

// Throws InputError when q, k, v or o do not fit the variant and shape (a
// paged variant's K and V are pages; kv_lens and page_table are for `decode`).
void check_fwd_tensors(const Variant& variant, bool decode, const FwdProblem& problem);

// Throws InputError when the problem does not fit (shapes, strides, alignment,
// a missing param or tensor); enqueues nothing then. No host synchronisation;
// the tile class table, where there is one and none was given, is
// stream-ordered scratch.
void launch_fwd(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                const codegen::GeneratedKernel& kernel, const FwdProblem& problem, CUstream stream);

// The tile class table that `kernel` reads on problems of `shape`: of 0
// bytes where it reads none (a mask of indices alone, the decode family).
codegen::ClassTableLayout tile_class_layout(const FwdFunctions& functions,
                                            const codegen::GeneratedKernel& kernel,
                                            const AttentionShape& shape);

// Fills `table` (tile_class_layout's bytes of it) with the classes of the problem's
// tiles, for launch_fwd to take as FwdProblem::tile_classes. Throws
// InputError as launch_fwd does.
void launch_classify(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                     const codegen::GeneratedKernel& kernel, const FwdProblem& problem,
                     CUdeviceptr table, CUstream stream);

// What Engine::block_mask reads: the shape, and the variant's params and
// tensors, as for a forward pass.
struct MaskProblem {
  AttentionShape shape;
  std::map<std::string, ParamValue, std::less<>> params;
  std::map<std::string, DeviceTensor, std::less<>> tensors;
};

// Fills `out` (bool [batch, heads, blocks of q_len, blocks of kv_len],
// contiguous) with the block mask of the variant's element mask
// (tile_walk.cuh's build_block_mask). Throws InputError as launch_fwd does,
// and when the module has no block mask kernel (a mask that reads no tensor).
void launch_block_mask(const Driver& driver, const FwdFunctions& functions, const Variant& variant,
                       const MaskProblem& problem, BlockSparsity blocks, const DeviceTensor& out,
                       CUstream stream);

}  // namespace attnjit
