#include "codegen/hash_order.hpp"

#include <attnjit/builder.hpp>
#include <attnjit/error.hpp>

#include <fmt/format.h>

namespace attnjit::codegen {
namespace {

using ir::Builtin;
using ir::ExprPtr;

ExprPtr order_of(std::string_view tensor, Builtin head, Builtin row) {
  return ir::tensor_read(std::string(tensor), ir::Type::Int,
                         {ir::builtin(Builtin::B), ir::builtin(head), ir::builtin(row)});
}

// `expr` with q and k (and causal, which names them) at the original positions.
ExprPtr at_original_positions(const ExprPtr& expr) {
  const ir::Node& node = expr->node();
  if (const auto* n = std::get_if<ir::BuiltinRef>(&node)) {
    switch (n->which) {
      case Builtin::Q: return order_of(kQueryOrderTensor, Builtin::H, Builtin::Q);
      case Builtin::K: return order_of(kKeyOrderTensor, Builtin::Hkv, Builtin::K);
      case Builtin::Causal: {
        // q + kv_len - q_len >= k, as LANGUAGE.md defines causal.
        const ExprPtr q = at_original_positions(ir::builtin(Builtin::Q));
        const ExprPtr aligned = ir::binary(
            ir::BinaryOp::Sub, ir::binary(ir::BinaryOp::Add, q, ir::builtin(Builtin::KvLen)),
            ir::builtin(Builtin::QLen));
        return ir::binary(ir::BinaryOp::Ge, aligned,
                          at_original_positions(ir::builtin(Builtin::K)));
      }
      default: return expr;
    }
  }
  const auto all = [](const std::vector<ExprPtr>& exprs) {
    std::vector<ExprPtr> out;
    out.reserve(exprs.size());
    for (const ExprPtr& e : exprs) out.push_back(at_original_positions(e));
    return out;
  };
  if (const auto* n = std::get_if<ir::TensorRead>(&node)) {
    return ir::tensor_read(n->name, expr->type(), all(n->indices));
  }
  if (const auto* n = std::get_if<ir::Unary>(&node)) {
    return ir::unary(n->op, at_original_positions(n->operand));
  }
  if (const auto* n = std::get_if<ir::Binary>(&node)) {
    return ir::binary(n->op, at_original_positions(n->lhs), at_original_positions(n->rhs));
  }
  if (const auto* n = std::get_if<ir::Select>(&node)) {
    return ir::select(at_original_positions(n->cond), at_original_positions(n->if_true),
                      at_original_positions(n->if_false));
  }
  if (const auto* n = std::get_if<ir::Call>(&node)) return ir::call(n->func, all(n->args));
  if (const auto* n = std::get_if<ir::IntToFloat>(&node)) {
    return ir::to_float(at_original_positions(n->operand));
  }
  return expr;  // constants and params
}

bool reads_buckets(const ExprPtr& expr) {
  const auto* eq = expr->as<ir::Binary>();
  const auto* lhs = eq == nullptr ? nullptr : eq->lhs->as<ir::TensorRead>();
  return lhs != nullptr && lhs->name == kQueryBucketTensor;
}

}  // namespace

Variant hash_sorted_variant(const Variant& variant) {
  if (!variant.hash_sparsity()) {
    throw SpecError(fmt::format("variant '{}' has no hash sparsity", variant.name()));
  }
  VariantBuilder builder(variant.name());
  builder.dtype(variant.dtype())
      .out_dtype(variant.out_dtype())
      .head_dim(variant.head_dim())
      .head_dim_v(variant.head_dim_v())
      .scale(dsl::E(static_cast<double>(variant.scale())));
  for (const ParamDecl& param : variant.params()) {
    builder.param(param.name, param.type, param.default_value);
  }
  for (const TensorDecl& tensor : variant.tensors()) {
    builder.tensor(tensor.name, tensor.element, tensor.dims);
  }
  builder.tensor(std::string(kQueryOrderTensor), ElemType::I32,
                 {DimKind::Batch, DimKind::Heads, DimKind::QLen});
  builder.tensor(std::string(kKeyOrderTensor), ElemType::I32,
                 {DimKind::Batch, DimKind::KvHeads, DimKind::KvLen});
  for (const ExprPtr& conjunct : variant.mask()) {
    builder.mask(dsl::E(reads_buckets(conjunct) ? conjunct : at_original_positions(conjunct)));
  }
  builder.score(dsl::E(at_original_positions(variant.score())));
  return builder.build();
}

std::string row_kernels_source(int buckets) {
  return fmt::format(
      "\n"
      "extern \"C\" __global__ void __launch_bounds__({sort_threads})\n"
      "{count}(const aj::HashSortArgs args) {{\n"
      "  aj::hash_count<{buckets}, {sort_threads}>(args);\n"
      "}}\n"
      "\n"
      "extern \"C\" __global__ void __launch_bounds__({sort_threads})\n"
      "{sort}(const aj::HashSortArgs args) {{\n"
      "  aj::hash_sort<{buckets}, {sort_threads}>(args);\n"
      "}}\n"
      "\n"
      "extern \"C\" __global__ void __launch_bounds__({permute_threads})\n"
      "{permute}(const aj::PermuteRowsArgs args) {{\n"
      "  aj::permute_rows(args);\n"
      "}}\n",
      fmt::arg("count", kHashCountEntry), fmt::arg("sort", kHashSortEntry),
      fmt::arg("permute", kPermuteRowsEntry), fmt::arg("buckets", buckets),
      fmt::arg("sort_threads", kHashSortThreads), fmt::arg("permute_threads", kPermuteThreads));
}

std::string hash_kernels_source(const Variant& variant) {
  const std::optional<HashSparsity> hash = variant.hash_sparsity();
  if (!hash) return {};
  return "\n#include \"attnjit/hash_sparsity.cuh\"\n" + row_kernels_source(hash->buckets) +
         fmt::format(
             "\n"
             "extern \"C\" __global__ void __launch_bounds__({lsh_threads})\n"
             "{lsh}(const aj::LshArgs args) {{\n"
             "  aj::lsh_buckets<Config::kBf16, {buckets}>(args);\n"
             "}}\n",
             fmt::arg("lsh", kLshEntry), fmt::arg("buckets", hash->buckets),
             fmt::arg("lsh_threads", kLshThreads));
}

}  // namespace attnjit::codegen
