#include "codegen/class_table.hpp"

#include "codegen/expr_weight.hpp"
#include "codegen/kernel_source.hpp"

#include <fmt/format.h>

namespace attnjit::codegen {

std::optional<ClassTable> class_table(const Variant& variant) {
  const ir::ExprPtr mask = variant.mask_expr();
  if (variant.mask().empty() || !reads_tensors(mask)) return std::nullopt;
  ClassTable table;
  table.by_batch = uses_builtin(mask, ir::Builtin::B);
  if (uses_builtin(mask, ir::Builtin::H)) {
    table.heads = ClassTable::Heads::Query;
  } else if (uses_builtin(mask, ir::Builtin::Hkv)) {
    table.heads = ClassTable::Heads::Kv;
  }
  return table;
}

ClassTableLayout class_table_layout(const ClassTable& table, const AttentionShape& shape,
                                    int block_m, int block_n) {
  std::int64_t planes = table.by_batch ? shape.batch : 1;
  if (table.heads == ClassTable::Heads::Query) planes *= shape.heads;
  if (table.heads == ClassTable::Heads::Kv) planes *= shape.kv_heads;
  ClassTableLayout layout;
  layout.rows = planes * ((shape.q_len + block_m - 1) / block_m);
  layout.tiles = layout.rows * ((shape.kv_len + block_n - 1) / block_n);
  layout.spans_at = (layout.tiles + 15) / 16 * 16;
  return layout;
}

std::string classify_kernel_source(const Variant& variant) {
  if (!class_table(variant)) return {};
  const VariantArguments arguments = variant_arguments(variant);
  // Two CTAs an SM at least, not ptxas's default aim of as many as fit: the
  // interval code in doubles needs more than 64 registers, and at 64 it
  // spills to local memory.
  return fmt::format(
      "\n"
      "extern \"C\" __global__ void __launch_bounds__({threads}, 2)\n"
      "{entry}(const aj::FwdArgs args{signature}) {{\n"
      "  aj::classify_tiles<Variant, Config::kBlockM, Config::kBlockN>(args, "
      "Variant::Params{{{names}}});\n"
      "}}\n"
      "\n"
      "extern \"C\" __global__ void __launch_bounds__({threads})\n"
      "{block_mask}(const aj::FwdArgs args, const int block_m, const int block_n,\n"
      "    unsigned char* const out{signature}) {{\n"
      "  aj::build_block_mask<Variant>(args, block_m, block_n, out, Variant::Params{{{names}}});\n"
      "}}\n",
      fmt::arg("threads", kClassifyThreads), fmt::arg("entry", kClassifyEntry),
      fmt::arg("block_mask", kBlockMaskEntry), fmt::arg("signature", arguments.signature),
      fmt::arg("names", arguments.names));
}

}  // namespace attnjit::codegen
