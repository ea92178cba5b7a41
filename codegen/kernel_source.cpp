#include "codegen/kernel_source.hpp"

#include "codegen/class_table.hpp"
#include "codegen/device_expr.hpp"
#include "codegen/expr_weight.hpp"
#include "codegen/head_values.hpp"
#include "codegen/interval_code.hpp"
#include "codegen/mask_parts.hpp"
#include "codegen/score_terms.hpp"
#include <attnjit/error.hpp>

#include <cmath>

#include <fmt/format.h>

namespace attnjit::codegen {
namespace {

std::string param_type(ParamType type) {
  switch (type) {
    case ParamType::I32: return "int";
    case ParamType::F32: return "float";
    case ParamType::Bool: return "bool";
  }
  return "int";
}

// Params then tensors, each in name order: the order of the kernel's
// arguments after FwdArgs, which the runtime follows when it launches.
std::vector<std::pair<std::string, std::string>> fields(const Variant& variant) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const ParamDecl& param : variant.params()) {
    out.emplace_back(param_type(param.type), field_name(param.name));
  }
  for (const TensorDecl& tensor : variant.tensors()) {
    out.emplace_back(fmt::format("aj::TensorArg<{}>", tensor.dims.size()), field_name(tensor.name));
  }
  return out;
}

bool identity_score(const Variant& variant) {
  const auto* ref = variant.score()->as<ir::BuiltinRef>();
  return ref != nullptr && ref->which == ir::Builtin::Score;
}

}  // namespace

std::string variant_struct(const Variant& variant) {
  std::string params;
  for (const auto& [type, name] : fields(variant))
    params += fmt::format("    {} {};\n", type, name);
  const bool has_mask = !variant.mask().empty();
  const ir::ExprPtr mask = variant.mask_expr();
  const std::optional<ClassTable> table = class_table(variant);
  // score + B is computed as x * scale * log2(e) + bias_log2 (score_terms.hpp).
  const std::optional<ir::ExprPtr> bias = additive_bias(variant.score());
  const HeadValues head = head_values(variant, bias);
  return fmt::format(
      "// variant {name} ({hash})\n"
      "struct Variant {{\n"
      "  struct Params {{\n{params}{head_fields}  }};\n"
      "  // The score's reads that no row or key changes (head_values.hpp), made\n"
      "  // once a row of a tile: ix names the row's batch entry and head.\n"
      "  static AJ_HD Params at_head(Params p, [[maybe_unused]] const aj::Index& ix) {{\n"
      "{head_assignments}"
      "    return p;\n"
      "  }}\n"
      "  static constexpr bool kHasMask = {has_mask};\n"
      "  static constexpr bool kIdentityScore = {identity};\n"
      "  static constexpr bool kCompactMask = {compact_mask};\n"
      "  static constexpr bool kClassTable = {table};\n"
      "  static constexpr bool kClassByBatch = {by_batch};\n"
      "  static constexpr int kClassHeads = {heads};  // 0 none, 1 query heads, 2 KV heads\n"
      "\n"
      "  static AJ_HD bool mask([[maybe_unused]] const Params& p,\n"
      "                         [[maybe_unused]] const aj::Index& ix) {{\n"
      "    return {mask};\n"
      "  }}\n"
      "{mask_parts}"
      "\n"
      "  static AJ_HD float score([[maybe_unused]] const Params& p,\n"
      "                           [[maybe_unused]] const aj::Index& ix, float score,\n"
      "                           [[maybe_unused]] int k_step) {{\n"
      "    return {score};\n"
      "  }}\n"
      "\n"
      "  static constexpr bool kAdditiveScore = {additive};\n"
      "  static AJ_HD float bias_log2([[maybe_unused]] const Params& p,\n"
      "                               [[maybe_unused]] const aj::Index& ix,\n"
      "                               [[maybe_unused]] int k_step) {{\n"
      "    return {bias_log2};\n"
      "  }}\n"
      "\n"
      "  static AJ_HD aj::TileClass classify([[maybe_unused]] const Params& p,\n"
      "                                      [[maybe_unused]] const aj::Tile& tile) {{\n"
      "{classify}"
      "  }}\n"
      "}};\n",
      fmt::arg("name", variant.name()), fmt::arg("hash", variant.hash()),
      fmt::arg("params", params), fmt::arg("has_mask", has_mask),
      fmt::arg("compact_mask", heavy_code(mask)), fmt::arg("table", table.has_value()),
      fmt::arg("by_batch", table && table->by_batch),
      fmt::arg("heads", table ? static_cast<int>(table->heads) : 0),
      fmt::arg("identity", identity_score(variant)), fmt::arg("mask", device_expr(mask, variant)),
      fmt::arg("head_fields", head.fields), fmt::arg("head_assignments", head.assignments),
      fmt::arg("score", device_expr(variant.score(), variant, head.named, "k_step")),
      fmt::arg("additive", bias.has_value()),
      fmt::arg("bias_log2",
               bias ? device_expr_times(*bias, float_literal(static_cast<float>(M_LOG2E)), variant,
                                        head.named, "k_step")
                    : "0.0f"),
      fmt::arg("classify", interval_code(mask, variant, "    ")),
      fmt::arg("mask_parts", mask_parts_members(variant)));
}

VariantArguments variant_arguments(const Variant& variant) {
  VariantArguments out;
  for (const auto& [type, name] : fields(variant)) {
    out.signature += fmt::format(", const {} {}", type, name);
    out.names += out.names.empty() ? name : ", " + name;
  }
  return out;
}

void throw_violations(const std::vector<std::string>& violations, const std::string& config,
                      const Variant& variant, const Arch& arch) {
  if (violations.empty()) return;
  std::string message = fmt::format("config {} does not fit variant '{}' on {}:", config,
                                    variant.name(), arch.name());
  for (const std::string& v : violations) message += "\n  " + v;
  throw SpecError(message);
}

int grid_head_group(const Variant& variant) { return variant.mask().empty() ? 1 : 2; }

GeneratedKernel fa2_kernel(const Variant& variant, const Fa2Config& config, const Arch& arch) {
  throw_violations(fa2_violations(variant, config, arch), config.to_string(), variant, arch);
  GeneratedKernel kernel;
  kernel.file_name = fmt::format("{}_fa2_sm80_{}.cu", variant.name(), arch.name());
  kernel.entry = "attnjit_fwd";
  kernel.threads = config.warps * 32;
  kernel.smem_bytes = fa2_smem_bytes(variant, config);
  kernel.block_m = config.block_m;
  kernel.block_n = config.block_n;
  kernel.head_group = grid_head_group(variant);

  const VariantArguments arguments = variant_arguments(variant);
  kernel.source = fmt::format(
      "// Generated by attnjit: family fa2_sm80, {config}, {arch}.\n"
      "#include \"attnjit/fwd_sm80.cuh\"\n"
      "\n"
      "{variant}"
      "\n"
      "struct Config {{\n"
      "  static constexpr int kBlockM = {bm}, kBlockN = {bn}, kWarps = {warps};\n"
      "  static constexpr int kHeadGroup = {head_group};\n"
      "  static constexpr int kHeadDim = {d}, kHeadDimV = {dv};\n"
      "  static constexpr bool kBf16 = {bf16}, kOutBf16 = {out_bf16};\n"
      "  static constexpr bool kPositiveScale = {positive_scale};\n"
      "  static constexpr int kSmemBytes = {smem};\n"
      "}};\n"
      "\n"
      "extern \"C\" __global__ void __launch_bounds__({threads})\n"
      "{entry}(const aj::FwdArgs args{signature}) {{\n"
      "  aj::sm80::forward<Variant, Config>(args, Variant::Params{{{names}}});\n"
      "}}\n"
      "{classify}",
      fmt::arg("config", config.to_string()), fmt::arg("arch", arch.name()),
      fmt::arg("variant", variant_struct(variant)), fmt::arg("bm", config.block_m),
      fmt::arg("bn", config.block_n), fmt::arg("warps", config.warps),
      fmt::arg("head_group", kernel.head_group), fmt::arg("d", variant.head_dim()),
      fmt::arg("dv", variant.head_dim_v()), fmt::arg("bf16", variant.dtype() == DType::BF16),
      fmt::arg("out_bf16", variant.out_dtype() == DType::BF16),
      fmt::arg("positive_scale", variant.scale() > 0), fmt::arg("smem", kernel.smem_bytes),
      fmt::arg("threads", kernel.threads), fmt::arg("entry", kernel.entry),
      fmt::arg("signature", arguments.signature), fmt::arg("names", arguments.names),
      fmt::arg("classify", classify_kernel_source(variant)));
  return kernel;
}

}  // namespace attnjit::codegen
