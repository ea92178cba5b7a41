#include "language/canonical.hpp"
#include "language/fold.hpp"
#include "language/names.hpp"
#include <attnjit/builder.hpp>
#include <attnjit/error.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <fmt/format.h>

namespace attnjit {

namespace dsl {

E::E(int value) : expr_(ir::int_const(value)) {}
E::E(std::int64_t value) : expr_(ir::int_const(value)) {}
E::E(double value) {
  const auto narrow = static_cast<float>(value);
  if (!std::isfinite(narrow)) {
    throw SpecError(fmt::format("float literal {} is out of range for float", value));
  }
  expr_ = ir::float_const(narrow);
}
E::E(ir::ExprPtr expr) : expr_(std::move(expr)) {
  if (!expr_) throw SpecError("empty expression");
}

E lit(bool value) { return E(ir::bool_const(value)); }
E b() { return E(ir::builtin(ir::Builtin::B)); }
E h() { return E(ir::builtin(ir::Builtin::H)); }
E hkv() { return E(ir::builtin(ir::Builtin::Hkv)); }
E q() { return E(ir::builtin(ir::Builtin::Q)); }
E k() { return E(ir::builtin(ir::Builtin::K)); }
E batch() { return E(ir::builtin(ir::Builtin::Batch)); }
E heads() { return E(ir::builtin(ir::Builtin::Heads)); }
E kv_heads() { return E(ir::builtin(ir::Builtin::KvHeads)); }
E q_len() { return E(ir::builtin(ir::Builtin::QLen)); }
E kv_len() { return E(ir::builtin(ir::Builtin::KvLen)); }
E score() { return E(ir::builtin(ir::Builtin::Score)); }
E causal() { return E(ir::builtin(ir::Builtin::Causal)); }

E operator-(const E& operand) { return E(ir::unary(ir::UnaryOp::Neg, operand.expr())); }
E operator!(const E& operand) { return E(ir::unary(ir::UnaryOp::Not, operand.expr())); }

namespace {
E apply(ir::BinaryOp op, const E& lhs, const E& rhs) {
  return E(ir::binary(op, lhs.expr(), rhs.expr()));
}
E apply(ir::Func func, std::initializer_list<E> args) {
  std::vector<ir::ExprPtr> exprs;
  for (const E& arg : args) exprs.push_back(arg.expr());
  return E(ir::call(func, std::move(exprs)));
}
}  // namespace

E operator+(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Add, lhs, rhs); }
E operator-(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Sub, lhs, rhs); }
E operator*(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Mul, lhs, rhs); }
E operator/(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Div, lhs, rhs); }
E operator%(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Mod, lhs, rhs); }
E operator<(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Lt, lhs, rhs); }
E operator<=(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Le, lhs, rhs); }
E operator>(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Gt, lhs, rhs); }
E operator>=(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Ge, lhs, rhs); }
E operator==(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Eq, lhs, rhs); }
E operator!=(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Ne, lhs, rhs); }
E operator&&(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::And, lhs, rhs); }
E operator||(const E& lhs, const E& rhs) { return apply(ir::BinaryOp::Or, lhs, rhs); }
E select(const E& cond, const E& if_true, const E& if_false) {
  return E(ir::select(cond.expr(), if_true.expr(), if_false.expr()));
}

E abs(const E& x) { return apply(ir::Func::Abs, {x}); }
E min(const E& x, const E& y) { return apply(ir::Func::Min, {x, y}); }
E max(const E& x, const E& y) { return apply(ir::Func::Max, {x, y}); }
E clamp(const E& x, const E& lo, const E& hi) { return apply(ir::Func::Clamp, {x, lo, hi}); }
E exp(const E& x) { return apply(ir::Func::Exp, {x}); }
E exp2(const E& x) { return apply(ir::Func::Exp2, {x}); }
E log(const E& x) { return apply(ir::Func::Log, {x}); }
E log2(const E& x) { return apply(ir::Func::Log2, {x}); }
E sqrt(const E& x) { return apply(ir::Func::Sqrt, {x}); }
E rsqrt(const E& x) { return apply(ir::Func::Rsqrt, {x}); }
E tanh(const E& x) { return apply(ir::Func::Tanh, {x}); }
E sigmoid(const E& x) { return apply(ir::Func::Sigmoid, {x}); }
E floor(const E& x) { return apply(ir::Func::Floor, {x}); }
E ceil(const E& x) { return apply(ir::Func::Ceil, {x}); }
E softcap(const E& x, const E& cap) { return apply(ir::Func::Softcap, {x, cap}); }

TensorHandle::TensorHandle(std::string name, ElemType element, std::size_t rank)
    : name_(std::move(name)), element_(element), rank_(rank) {}

E TensorHandle::read(const std::vector<E>& indices) const {
  if (indices.size() != rank_) {
    throw SpecError(fmt::format("tensor '{}' has {} dimension{}, indexed with {}", name_, rank_,
                                rank_ == 1 ? "" : "s", indices.size()));
  }
  std::vector<ir::ExprPtr> exprs;
  exprs.reserve(indices.size());
  for (const E& index : indices) exprs.push_back(index.expr());
  return E(ir::tensor_read(name_, value_type(element_), std::move(exprs)));
}

}  // namespace dsl

namespace {

constexpr std::size_t kMaxNameLength = 128;

// Declared names share one space with the built-in names and functions.
void check_declared_name(std::string_view what, const std::string& name) {
  const bool well_formed =
      !name.empty() && name.size() <= kMaxNameLength &&
      (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_') &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
      });
  if (!well_formed) throw SpecError(fmt::format("'{}' is not a valid {} name", name, what));
  if (names::find_builtin(name) || names::find_func(name) || name == "head_dim" || name == "true" ||
      name == "false") {
    throw SpecError(fmt::format("{} '{}' shadows a built-in name", what, name));
  }
}

void check_head_dim(std::string_view statement, int size) {
  if (size < 1 || size > kMaxHeadDim) {
    throw SpecError(fmt::format("{} must be in 1..{}, got {}", statement, kMaxHeadDim, size));
  }
}

// Every name an expression uses must be declared here, with the same type;
// `score` is known only to the score expression.
void check_references(const ir::ExprPtr& expr, const std::vector<ParamDecl>& params,
                      const std::vector<TensorDecl>& tensors, bool score_allowed,
                      std::string_view where) {
  const ir::Node& node = expr->node();
  if (const auto* n = std::get_if<ir::BuiltinRef>(&node)) {
    if (n->which == ir::Builtin::Score && !score_allowed) {
      throw SpecError(fmt::format("'score' cannot be used in {}", where));
    }
    return;
  }
  if (const auto* n = std::get_if<ir::ParamRef>(&node)) {
    const auto it = std::find_if(params.begin(), params.end(),
                                 [&](const ParamDecl& p) { return p.name == n->name; });
    if (it == params.end() || value_type(it->type) != expr->type()) {
      throw SpecError(fmt::format("{} uses param '{}' that this variant does not declare as {}",
                                  where, n->name, ir::type_name(expr->type())));
    }
    return;
  }
  if (const auto* n = std::get_if<ir::TensorRead>(&node)) {
    const auto it = std::find_if(tensors.begin(), tensors.end(),
                                 [&](const TensorDecl& t) { return t.name == n->name; });
    if (it == tensors.end() || value_type(it->element) != expr->type() ||
        it->dims.size() != n->indices.size()) {
      throw SpecError(fmt::format("{} reads tensor '{}' that this variant does not declare so",
                                  where, n->name));
    }
  }
  auto visit = [&](const ir::ExprPtr& child) {
    check_references(child, params, tensors, score_allowed, where);
  };
  std::visit(
      [&](const auto& n) {
        using T = std::decay_t<decltype(n)>;
        if constexpr (std::is_same_v<T, ir::TensorRead>) {
          for (const auto& index : n.indices) visit(index);
        } else if constexpr (std::is_same_v<T, ir::Call>) {
          for (const auto& arg : n.args) visit(arg);
        } else if constexpr (std::is_same_v<T, ir::Unary> || std::is_same_v<T, ir::IntToFloat>) {
          visit(n.operand);
        } else if constexpr (std::is_same_v<T, ir::Binary>) {
          visit(n.lhs);
          visit(n.rhs);
        } else if constexpr (std::is_same_v<T, ir::Select>) {
          visit(n.cond);
          visit(n.if_true);
          visit(n.if_false);
        }
      },
      node);
}

void flatten_and(const ir::ExprPtr& expr, std::vector<ir::ExprPtr>& out) {
  if (const auto* n = expr->as<ir::Binary>(); n != nullptr && n->op == ir::BinaryOp::And) {
    flatten_and(n->lhs, out);
    flatten_and(n->rhs, out);
    return;
  }
  out.push_back(expr);
}

// The mask as a set of conjuncts: order and repetition of mask statements and
// of `&&` operands do not change the function, so they do not change the form.
std::vector<ir::ExprPtr> normalise_mask(const std::vector<ir::ExprPtr>& masks) {
  std::vector<std::pair<std::string, ir::ExprPtr>> terms;
  for (const ir::ExprPtr& mask : masks) {
    std::vector<ir::ExprPtr> conjuncts;
    flatten_and(fold(mask), conjuncts);
    for (const ir::ExprPtr& conjunct : conjuncts) {
      if (const auto* c = conjunct->as<ir::BoolConst>()) {
        if (c->value) continue;
        return {conjunct};
      }
      terms.emplace_back(print_expr(conjunct), conjunct);
    }
  }
  std::sort(terms.begin(), terms.end(),
            [](const auto& x, const auto& y) { return x.first < y.first; });
  terms.erase(std::unique(terms.begin(), terms.end(),
                          [](const auto& x, const auto& y) { return x.first == y.first; }),
              terms.end());
  std::vector<ir::ExprPtr> out;
  out.reserve(terms.size());
  for (auto& term : terms) out.push_back(std::move(term.second));
  return out;
}

float resolve_scale(const ir::ExprPtr& written, int head_dim) {
  // The default is folded from its own spelling so that writing it out
  // gives the very same float.
  const ir::ExprPtr expr = written
                               ? written
                               : ir::binary(ir::BinaryOp::Div, ir::float_const(1.0F),
                                            ir::call(ir::Func::Sqrt, {ir::int_const(head_dim)}));
  const ir::ExprPtr folded = fold(ir::to_float(expr));
  const auto* constant = folded->as<ir::FloatConst>();
  if (constant == nullptr) {
    throw SpecError("scale must be a finite constant expression, got '" + print_expr(folded) + "'");
  }
  return constant->value;
}

}  // namespace

VariantBuilder::VariantBuilder(std::string name) : name_(std::move(name)) {}

VariantBuilder& VariantBuilder::dtype(DType type) {
  dtype_ = type;
  return *this;
}
VariantBuilder& VariantBuilder::out_dtype(DType type) {
  out_dtype_ = type;
  return *this;
}
VariantBuilder& VariantBuilder::head_dim(int size) {
  check_head_dim("head_dim", size);
  head_dim_ = size;
  return *this;
}
VariantBuilder& VariantBuilder::head_dim_v(int size) {
  check_head_dim("head_dim_v", size);
  head_dim_v_ = size;
  return *this;
}
VariantBuilder& VariantBuilder::kv_paged(int page_size) {
  if (page_size < 1 || page_size > kMaxKvPageSize || (page_size & (page_size - 1)) != 0) {
    throw SpecError(fmt::format("kv page size must be a power of two in 1..{}, got {}",
                                kMaxKvPageSize, page_size));
  }
  kv_page_size_ = page_size;
  return *this;
}
VariantBuilder& VariantBuilder::sparsity_block(int block_m, int block_n) {
  for (const int size : {block_m, block_n}) {
    if (size < 1 || size > kMaxSparseBlock) {
      throw SpecError(
          fmt::format("sparse block sizes must be in 1..{}, got {}", kMaxSparseBlock, size));
    }
  }
  block_sparsity_ = BlockSparsity{block_m, block_n};
  return *this;
}
VariantBuilder& VariantBuilder::sparsity_hash(int buckets) {
  if (buckets < 1 || buckets > kMaxHashBuckets) {
    throw SpecError(fmt::format("hash buckets must be in 1..{}, got {}", kMaxHashBuckets, buckets));
  }
  hash_sparsity_ = HashSparsity{buckets};
  return *this;
}
VariantBuilder& VariantBuilder::approx_hyper(const HyperApprox& hyper) {
  for (const auto& [key, value] :
       {std::pair{"block", hyper.block}, std::pair{"samples", hyper.samples},
        std::pair{"lsh_bits", hyper.lsh_bits}, std::pair{"min_seq", hyper.min_seq}}) {
    if (auto problem = hyper_arg_problem(key, value)) throw SpecError(*problem);
  }
  hyper_ = hyper;
  return *this;
}
VariantBuilder& VariantBuilder::quant_sage(const SageQuant& quant) {
  quant_ = quant;
  return *this;
}
VariantBuilder& VariantBuilder::scale(const dsl::E& value) {
  if (value.expr()->type() == ir::Type::Bool) throw SpecError("scale must be a number, got bool");
  scale_ = value.expr();
  return *this;
}
VariantBuilder& VariantBuilder::mask(const dsl::E& cond) {
  if (cond.expr()->type() != ir::Type::Bool) {
    throw SpecError(
        fmt::format("mask must be a bool expression, got {}", ir::type_name(cond.expr()->type())));
  }
  masks_.push_back(cond.expr());
  return *this;
}
VariantBuilder& VariantBuilder::score(const dsl::E& value) {
  if (value.expr()->type() == ir::Type::Bool) {
    throw SpecError("score must be a number expression, got bool");
  }
  score_ = ir::to_float(value.expr());
  return *this;
}

dsl::E VariantBuilder::param(std::string name, ParamType type,
                             std::optional<ParamValue> default_value) {
  check_declared_name("param", name);
  if (default_value) {
    if (param_value_type(*default_value) != type) {
      throw SpecError(
          fmt::format("default of param '{}' is not of type {}", name, param_type_name(type)));
    }
    if (const auto* f = std::get_if<float>(&*default_value); f != nullptr && !std::isfinite(*f)) {
      throw SpecError(fmt::format("default of param '{}' must be finite", name));
    }
  }
  const ir::Type type_in_expr = value_type(type);
  params_.push_back(ParamDecl{name, type, default_value});
  return dsl::E(ir::param_ref(std::move(name), type_in_expr));
}

dsl::TensorHandle VariantBuilder::tensor(std::string name, ElemType element,
                                         std::vector<Dim> dims) {
  check_declared_name("tensor", name);
  if (element == ElemType::F8E4M3 || element == ElemType::F8E5M2) {
    throw SpecError(fmt::format("tensor '{}' cannot be {}: fp8 is for Q, K and V only, by dtype",
                                name, elem_type_name(element)));
  }
  if (dims.empty() || dims.size() > static_cast<std::size_t>(kMaxTensorRank)) {
    throw SpecError(fmt::format("tensor '{}' must have 1..{} dimensions, has {}", name,
                                kMaxTensorRank, dims.size()));
  }
  for (Dim& dim : dims) {
    if (const auto* extent = std::get_if<std::int64_t>(&dim); extent != nullptr && *extent < 1) {
      throw SpecError(fmt::format("tensor '{}' has a dimension of extent {}", name, *extent));
    }
    if (const auto* free = std::get_if<std::string>(&dim)) {
      if (auto kind = parse_dim_kind(*free)) {
        dim = *kind;
      } else {
        check_declared_name("dimension", *free);
      }
    }
  }
  const std::size_t rank = dims.size();
  tensors_.push_back(TensorDecl{name, element, std::move(dims)});
  return {std::move(name), element, rank};
}

// HyperAttention approximates plain softmax attention; its sorting and
// sampling have no meaning for other masks and scores.
void VariantBuilder::check_hyper_variant() const {
  const auto refuse = [](std::string_view what) {
    throw SpecError(fmt::format(
        "approx hyper approximates plain attention: its variant may say 'mask causal;' and no {}",
        what));
  };
  const bool causal_only = std::all_of(masks_.begin(), masks_.end(), [](const ir::ExprPtr& m) {
    const auto* builtin = m->as<ir::BuiltinRef>();
    return builtin != nullptr && builtin->which == ir::Builtin::Causal;
  });
  if (!causal_only) refuse("other mask");
  if (score_ && score_->as<ir::BuiltinRef>() == nullptr) refuse("score");
  if (!params_.empty()) refuse("param");
  if (!tensors_.empty()) refuse("tensor");
  if (block_sparsity_ || hash_sparsity_) refuse("sparsity");
  if (kv_page_size_ > 0) refuse("paged KV");
  if (dtype_ != DType::F16 && dtype_ != DType::BF16) refuse("8-bit dtype");
}

Variant VariantBuilder::build() const {
  if (!dtype_) throw SpecError(fmt::format("variant '{}' has no 'dtype' statement", name_));
  if (!head_dim_) throw SpecError(fmt::format("variant '{}' has no 'head_dim' statement", name_));

  Variant v;
  v.name_ = name_;
  v.dtype_ = *dtype_;
  const bool fp8 = *dtype_ == DType::FP8E4M3 || *dtype_ == DType::FP8E5M2;
  v.out_dtype_ = out_dtype_.value_or(fp8 ? DType::BF16 : *dtype_);
  v.head_dim_ = *head_dim_;
  v.head_dim_v_ = head_dim_v_.value_or(*head_dim_);
  v.scale_ = resolve_scale(scale_, *head_dim_);
  v.kv_page_size_ = kv_page_size_;
  v.block_sparsity_ = block_sparsity_;
  v.hash_sparsity_ = hash_sparsity_;
  if (block_sparsity_ && hash_sparsity_) {
    throw SpecError("a variant has one kind of sparsity, block or hash");
  }
  v.hyper_ = hyper_;
  if (hyper_) check_hyper_variant();
  v.quant_ = quant_;
  if (quant_) {
    // The runtime quantises 16-bit tensors; fp8 inputs are quantised already.
    if (fp8) throw SpecError("quant sage quantises fp16 or bf16 inputs, not fp8 ones");
    if (quant_->pv != DType::FP8E4M3 && quant_->pv != *dtype_) {
      throw SpecError(
          fmt::format("quant sage's pv={} keeps V as given, so it must be the inputs' dtype, {}",
                      dtype_name(quant_->pv), dtype_name(*dtype_)));
    }
    if (hyper_ || hash_sparsity_ || kv_page_size_ > 0) {
      throw SpecError(
          "quant sage has one kernel, the Hopper family's, which takes no approx hyper, hash "
          "sparsity or paged KV");
    }
  }

  std::vector<TensorDecl> tensors = tensors_;
  std::vector<ir::ExprPtr> masks = masks_;
  const auto reserve = [&](std::string_view name, std::string_view statement) {
    const auto taken = [name](const auto& decl) { return decl.name == name; };
    if (std::any_of(params_.begin(), params_.end(), taken) ||
        std::any_of(tensors_.begin(), tensors_.end(), taken)) {
      throw SpecError(fmt::format("'{}' is a name that '{}' takes", name, statement));
    }
  };
  if (block_sparsity_) {
    const std::string name(kBlockMaskTensor);
    reserve(name, "sparsity block");
    const auto bm = static_cast<std::int64_t>(block_sparsity_->block_m);
    const auto bn = static_cast<std::int64_t>(block_sparsity_->block_n);
    tensors.push_back(TensorDecl{name,
                                 ElemType::Bool,
                                 {DimKind::Batch, DimKind::Heads, BlockCount{DimKind::QLen, bm},
                                  BlockCount{DimKind::KvLen, bn}}});
    const auto block_of = [](ir::Builtin row, std::int64_t size) {
      return ir::binary(ir::BinaryOp::Div, ir::builtin(row), ir::int_const(size));
    };
    masks.push_back(ir::tensor_read(name, ir::Type::Bool,
                                    {ir::builtin(ir::Builtin::B), ir::builtin(ir::Builtin::H),
                                     block_of(ir::Builtin::Q, bm), block_of(ir::Builtin::K, bn)}));
  }
  if (hash_sparsity_) {
    const std::string q_bucket(kQueryBucketTensor);
    const std::string k_bucket(kKeyBucketTensor);
    for (const std::string_view name :
         {kQueryBucketTensor, kKeyBucketTensor, kQueryOrderTensor, kKeyOrderTensor}) {
      reserve(name, "sparsity hash");
    }
    tensors.push_back(
        TensorDecl{q_bucket, ElemType::I32, {DimKind::Batch, DimKind::Heads, DimKind::QLen}});
    tensors.push_back(
        TensorDecl{k_bucket, ElemType::I32, {DimKind::Batch, DimKind::KvHeads, DimKind::KvLen}});
    masks.push_back(hash_bucket_term());
  }

  std::set<std::string_view> seen;
  for (const ParamDecl& param : params_) {
    if (!seen.insert(param.name).second) {
      throw SpecError(fmt::format("'{}' is declared twice", param.name));
    }
  }
  for (const TensorDecl& tensor : tensors) {
    if (!seen.insert(tensor.name).second) {
      throw SpecError(fmt::format("'{}' is declared twice", tensor.name));
    }
  }
  v.params_ = params_;
  v.tensors_ = std::move(tensors);
  std::sort(v.params_.begin(), v.params_.end(),
            [](const ParamDecl& x, const ParamDecl& y) { return x.name < y.name; });
  std::sort(v.tensors_.begin(), v.tensors_.end(),
            [](const TensorDecl& x, const TensorDecl& y) { return x.name < y.name; });

  // The bucket tensors are the runtime's to reorder, so the user's
  // expressions do not see them.
  const std::vector<TensorDecl>& visible = hash_sparsity_ ? tensors_ : v.tensors_;
  for (const ir::ExprPtr& mask : masks_) {
    check_references(mask, v.params_, visible, false, "the mask");
  }
  if (scale_) check_references(scale_, v.params_, v.tensors_, false, "the scale");
  v.mask_ = normalise_mask(masks);
  v.score_ = fold(score_ ? score_ : ir::builtin(ir::Builtin::Score));
  check_references(v.score_, v.params_, visible, true, "the score");
  static_cast<void>(v.mask_expr());  // throws if the whole mask is too deep to form

  v.canonical_ = canonical_form(v);
  v.hash_ = variant_hash(v.canonical_);
  return v;
}

}  // namespace attnjit
