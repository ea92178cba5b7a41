#include "codegen/hyper_kernels.hpp"

#include "codegen/hash_order.hpp"
#include "language/hyper_plan.hpp"
#include "templates/attnjit/fwd_args.h"
#include <attnjit/language.hpp>

#include <stdexcept>

#include <fmt/format.h>

namespace attnjit::codegen {

Variant hyper_kernel_variant(const Variant& variant) {
  // Spelled in the language, so that it reads as what it computes.
  const std::string source = fmt::format(
      "variant {name}_hyper_kernel {{\n"
      "  dtype {dtype};\n"
      "  out_dtype {out_dtype};\n"
      "  head_dim {d};\n"
      "  head_dim_v {dv};\n"
      "  scale {scale};\n"
      "  param {q_block}: i32;\n"
      "  param {block}: i32;\n"
      "  param {keys}: i32;\n"
      "  param {causal}: bool;\n"
      "  tensor {sample_block}: i32[batch, kv_heads, kv_len];\n"
      "  mask k < {keys} && q / {q_block} == k / {block} && (!{causal} || causal) ||\n"
      "       k >= {keys} && {sample_block}[b, hkv, k] != q / {q_block};\n"
      "}}\n",
      fmt::arg("name", variant.name()), fmt::arg("dtype", dtype_name(variant.dtype())),
      fmt::arg("out_dtype", dtype_name(variant.out_dtype())), fmt::arg("d", variant.head_dim()),
      fmt::arg("dv", variant.head_dim_v()), fmt::arg("scale", variant.scale()),
      fmt::arg("q_block", kHyperQueryBlockParam), fmt::arg("block", kHyperBlockParam),
      fmt::arg("keys", kHyperKeysParam), fmt::arg("causal", kHyperCausalParam),
      fmt::arg("sample_block", kHyperSampleBlockTensor));
  ParseResult parsed = parse_variants(source, "hyper_kernel.attn");
  if (!parsed.ok()) {
    throw std::logic_error("the approx hyper kernel variant does not parse:\n" +
                           parsed.errors.front().render());
  }
  return std::move(parsed.variants.front());
}

std::string hyper_kernels_source(const Variant& variant) {
  const std::optional<HyperApprox> hyper = variant.hyper();
  if (!hyper) return {};
  return "\n#include \"attnjit/hyper.cuh\"\n" + row_kernels_source(1 << hyper->lsh_bits) +
         fmt::format(
             "\n"
             "extern \"C\" __global__ void __launch_bounds__({threads})\n"
             "{hash}(const aj::HyperHashArgs args) {{\n"
             "  aj::hyper_hash<Config::kBf16, {bits}, {threads}>(args);\n"
             "}}\n"
             "\n"
             "extern \"C\" __global__ void __launch_bounds__({threads})\n"
             "{samples}(const aj::HyperSampleArgs args) {{\n"
             "  aj::hyper_samples<{threads}>(args);\n"
             "}}\n"
             "\n"
             "extern \"C\" __global__ void __launch_bounds__({threads})\n"
             "{merge}(const aj::HyperMergeArgs args) {{\n"
             "  aj::hyper_merge<Config::kBf16, {merge_steps}>(args);\n"
             "}}\n",
             fmt::arg("hash", kHyperHashEntry), fmt::arg("samples", kHyperSamplesEntry),
             fmt::arg("merge", kHyperMergeEntry), fmt::arg("bits", hyper->lsh_bits),
             fmt::arg("merge_steps",
                      (variant.head_dim_v() + aj::kHyperRowColumns - 1) / aj::kHyperRowColumns),
             fmt::arg("threads", kHyperThreads));
}

}  // namespace attnjit::codegen
