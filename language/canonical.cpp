#include "language/canonical.hpp"

#include <attnjit/error.hpp>

#include <algorithm>
#include <array>
#include <limits>

#include <fmt/format.h>
#include <openssl/evp.h>

namespace attnjit {
namespace {

// Binding strength, loosest first, as in LANGUAGE.md's operator table.
enum Precedence : int {
  kTernary = 0,
  kOr,
  kAnd,
  kEquality,
  kRelational,
  kAdditive,
  kMultiplicative,
  kUnary,
  kPrimary,
};

int precedence(ir::BinaryOp op) {
  switch (op) {
    case ir::BinaryOp::Or: return kOr;
    case ir::BinaryOp::And: return kAnd;
    case ir::BinaryOp::Eq:
    case ir::BinaryOp::Ne: return kEquality;
    case ir::BinaryOp::Lt:
    case ir::BinaryOp::Le:
    case ir::BinaryOp::Gt:
    case ir::BinaryOp::Ge: return kRelational;
    case ir::BinaryOp::Add:
    case ir::BinaryOp::Sub: return kAdditive;
    default: return kMultiplicative;
  }
}

struct Printed {
  std::string text;
  int precedence;
};

std::string join(const std::vector<ir::ExprPtr>& exprs);

Printed print(const ir::ExprPtr& expr);

std::string print_at(const ir::ExprPtr& expr, int needed) {
  Printed printed = print(expr);
  if (printed.precedence < needed) return "(" + printed.text + ")";
  return std::move(printed.text);
}

Printed print_int(std::int64_t value) {
  // The most negative int has no literal: its magnitude does not fit.
  if (value == std::numeric_limits<std::int64_t>::min()) {
    return {fmt::format("({} - 1)", value + 1), kPrimary};
  }
  return {fmt::format("{}", value), value < 0 ? kUnary : kPrimary};
}

Printed print(const ir::ExprPtr& expr) {
  const ir::Node& node = expr->node();
  if (const auto* n = std::get_if<ir::IntConst>(&node)) return print_int(n->value);
  if (const auto* n = std::get_if<ir::FloatConst>(&node)) {
    return {float_literal(n->value), std::signbit(n->value) ? kUnary : kPrimary};
  }
  if (const auto* n = std::get_if<ir::BoolConst>(&node)) {
    return {n->value ? "true" : "false", kPrimary};
  }
  if (const auto* n = std::get_if<ir::BuiltinRef>(&node)) {
    return {std::string(ir::builtin_name(n->which)), kPrimary};
  }
  if (const auto* n = std::get_if<ir::ParamRef>(&node)) return {n->name, kPrimary};
  if (const auto* n = std::get_if<ir::TensorRead>(&node)) {
    return {fmt::format("{}[{}]", n->name, join(n->indices)), kPrimary};
  }
  if (const auto* n = std::get_if<ir::Call>(&node)) {
    return {fmt::format("{}({})", ir::func_name(n->func), join(n->args)), kPrimary};
  }
  if (const auto* n = std::get_if<ir::IntToFloat>(&node)) return print(n->operand);
  if (const auto* n = std::get_if<ir::Unary>(&node)) {
    // A primary operand only, so that `-(-x)` never prints as `--x`.
    return {fmt::format("{}{}", ir::unary_spelling(n->op), print_at(n->operand, kPrimary)), kUnary};
  }
  if (const auto* n = std::get_if<ir::Binary>(&node)) {
    const int p = precedence(n->op);
    return {fmt::format("{} {} {}", print_at(n->lhs, p), ir::binary_spelling(n->op),
                        print_at(n->rhs, p + 1)),
            p};
  }
  const auto& s = std::get<ir::Select>(node);
  return {fmt::format("{} ? {} : {}", print_at(s.cond, kOr), print_at(s.if_true, kTernary),
                      print_at(s.if_false, kTernary)),
          kTernary};
}

std::string join(const std::vector<ir::ExprPtr>& exprs) {
  std::string out;
  for (const ir::ExprPtr& expr : exprs) {
    if (!out.empty()) out += ", ";
    out += print_at(expr, kTernary);
  }
  return out;
}

std::string print_value(const ParamValue& value) {
  if (const auto* i = std::get_if<std::int32_t>(&value)) return fmt::format("{}", *i);
  if (const auto* f = std::get_if<float>(&value)) return float_literal(*f);
  return std::get<bool>(value) ? "true" : "false";
}

}  // namespace

std::string print_expr(const ir::ExprPtr& expr) { return print(expr).text; }

std::string float_literal(float value) {
  std::string text = fmt::format("{}", value);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::string canonical_form(const Variant& variant) {
  std::string out;
  auto line = [&out](std::string_view text) {
    out += text;
    out += ";\n";
  };
  line(fmt::format("dtype {}", dtype_name(variant.dtype())));
  line(fmt::format("out_dtype {}", dtype_name(variant.out_dtype())));
  line(fmt::format("head_dim {}", variant.head_dim()));
  line(fmt::format("head_dim_v {}", variant.head_dim_v()));
  // Contiguous K/V, the default, prints nothing, so that the hashes of variants written before
  // paging existed stay what they were.
  if (variant.kv_page_size() != 0) line(fmt::format("kv paged({})", variant.kv_page_size()));
  if (const auto& sparse = variant.block_sparsity()) {
    line(fmt::format("sparsity block({}, {})", sparse->block_m, sparse->block_n));
  }
  if (const auto& hash = variant.hash_sparsity()) {
    line(fmt::format("sparsity hash(buckets={})", hash->buckets));
  }
  if (const auto& hyper = variant.hyper()) {
    line(fmt::format("approx hyper(block={}, samples={}, lsh_bits={}, min_seq={})", hyper->block,
                     hyper->samples, hyper->lsh_bits, hyper->min_seq));
  }
  if (const auto& quant = variant.quant()) {
    line(fmt::format("quant sage(qk=int8, pv={}, smooth_k={}, hadamard={})", dtype_name(quant->pv),
                     quant->smooth_k, quant->hadamard));
  }
  line(fmt::format("scale {}", float_literal(variant.scale())));
  for (const ParamDecl& param : variant.params()) {
    std::string text = fmt::format("param {}: {}", param.name, param_type_name(param.type));
    if (param.default_value) text += " = " + print_value(*param.default_value);
    line(text);
  }
  // What a `sparsity` statement declares stays implicit, so that the form
  // parses back: its tensors (names nobody else may declare) and its term.
  std::vector<std::string_view> implicit_tensors;
  std::string implicit_term;
  if (const auto& sparse = variant.block_sparsity()) {
    implicit_tensors = {kBlockMaskTensor};
    implicit_term =
        fmt::format("{}[b, h, q / {}, k / {}]", kBlockMaskTensor, sparse->block_m, sparse->block_n);
  }
  if (variant.hash_sparsity()) {
    implicit_tensors = {kQueryBucketTensor, kKeyBucketTensor};
    implicit_term = print_expr(hash_bucket_term());
  }
  for (const TensorDecl& tensor : variant.tensors()) {
    if (std::find(implicit_tensors.begin(), implicit_tensors.end(), tensor.name) !=
        implicit_tensors.end()) {
      continue;
    }
    std::string dims;
    for (const Dim& dim : tensor.dims) dims += (dims.empty() ? "" : ", ") + dim_spelling(dim);
    line(fmt::format("tensor {}: {}[{}]", tensor.name, elem_type_name(tensor.element), dims));
  }
  for (const ir::ExprPtr& conjunct : variant.mask()) {
    const std::string text = print_expr(conjunct);
    if (text != implicit_term) line("mask " + text);
  }
  line("score " + print_expr(variant.score()));
  return out;
}

std::string variant_hash(std::string_view canonical) {
  // The version prefix changes every hash when the canonical form's meaning does.
  const std::string input = fmt::format("attnjit-variant-v1\n{}", canonical);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length < 8) {
    throw Error("SHA-256 failed in OpenSSL");
  }
  std::string hex;
  for (unsigned int i = 0; i < 8; ++i) hex += fmt::format("{:02x}", digest.at(i));
  return hex;
}

}  // namespace attnjit
