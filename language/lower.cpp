#include "language/lower.hpp"

#include "language/fold.hpp"
#include "language/names.hpp"
#include "language/suggest.hpp"
#include <attnjit/builder.hpp>
#include <attnjit/error.hpp>

#include <limits>
#include <map>
#include <set>

#include <fmt/format.h>

namespace attnjit {
namespace {

using Kind = ast::Statement::Kind;

// Unwinds one statement after its first error, so one mistake is one message.
struct StatementFailed {};

enum class Context : std::uint8_t { Mask, Score, Constant };

struct Declaration {
  Span span;
  bool is_tensor = false;
  ParamType param_type = ParamType::I32;
  ElemType element = ElemType::I32;
  std::size_t rank = 0;
};

template <class Table>
std::vector<std::string_view> spellings(const Table& table) {
  return {table.begin(), table.end()};
}

class Lowering {
 public:
  Lowering(const ast::Variant& parsed, Diagnostics& diagnostics)
      : parsed_(parsed), diagnostics_(diagnostics), builder_(std::string(parsed.name.text)) {}

  std::optional<Variant> run() {
    for (const ast::Statement& statement : parsed_.statements) guarded(statement, true);
    for (const ast::Statement& statement : parsed_.statements) guarded(statement, false);
    if (failed_) return std::nullopt;
    try {
      return builder_.build();
    } catch (const SpecError& error) {
      diagnostics_.error(parsed_.name.span, error.what());
      return std::nullopt;
    }
  }

 private:
  [[noreturn]] void fail(const Span& span, const std::string& message) {
    diagnostics_.error(span, message);
    failed_ = true;
    throw StatementFailed{};
  }

  void guarded(const ast::Statement& statement, bool declarations) {
    try {
      if (declarations) {
        declare(statement);
      } else {
        define(statement);
      }
    } catch (const StatementFailed&) {
    } catch (const SpecError& error) {
      diagnostics_.error(statement.keyword, error.what());
      failed_ = true;
    }
  }

  // Statements that appear once: a second one is an error pointing at both.
  void once(const ast::Statement& statement, std::string_view keyword) {
    const auto [it, inserted] = seen_.emplace(statement.kind, statement.keyword.line);
    if (!inserted) {
      fail(statement.keyword,
           fmt::format("duplicate '{}' statement (the first is on line {})", keyword, it->second));
    }
  }

  // Pass 1: sizes, types and the names later expressions refer to.
  void declare(const ast::Statement& statement) {
    switch (statement.kind) {
      case Kind::DType:
        once(statement, "dtype");
        builder_.dtype(dtype(statement.word));
        return;
      case Kind::OutDType:
        once(statement, "out_dtype");
        builder_.out_dtype(dtype(statement.word));
        return;
      case Kind::HeadDim:
        once(statement, "head_dim");
        head_dim_ = size(statement, "head_dim");
        builder_.head_dim(*head_dim_);
        return;
      case Kind::HeadDimV:
        once(statement, "head_dim_v");
        builder_.head_dim_v(size(statement, "head_dim_v"));
        return;
      case Kind::Kv:
        once(statement, "kv");
        if (statement.word.text == "paged") builder_.kv_paged(page_size(statement.size));
        return;
      case Kind::Sparsity:
        once(statement, "sparsity");
        if (statement.word.text == "hash") {
          builder_.sparsity_hash(hash_buckets(statement.size));
        } else {
          builder_.sparsity_block(sparse_block(statement.size), sparse_block(statement.size_n));
        }
        return;
      case Kind::Approx: {
        once(statement, "approx");
        HyperApprox hyper;
        std::set<std::string_view> given;
        for (const auto& [key, value] : statement.args) {
          if (auto problem = hyper_arg_problem(key.text, value.int_value)) {
            // A known key accepts 1, so a problem then is the key's.
            fail(hyper_arg_problem(key.text, 1) ? key.span : value.span, *problem);
          }
          if (!given.insert(key.text).second) {
            fail(key.span, fmt::format("'{}' is given twice", key.text));
          }
          set_hyper_arg(hyper, key.text, static_cast<int>(value.int_value));
        }
        builder_.approx_hyper(hyper);
        return;
      }
      case Kind::Quant: {
        once(statement, "quant");
        SageQuant quant;
        std::set<std::string_view> given;
        for (const auto& [key, value] : statement.args) {
          if (auto problem = set_sage_arg(quant, key.text, value.text)) {
            fail(is_sage_arg(key.text) ? value.span : key.span, *problem);
          }
          if (!given.insert(key.text).second) {
            fail(key.span, fmt::format("'{}' is given twice", key.text));
          }
        }
        builder_.quant_sage(quant);
        return;
      }
      case Kind::Param: declare_param(statement); return;
      case Kind::Tensor: declare_tensor(statement); return;
      case Kind::Scale: once(statement, "scale"); return;
      case Kind::Score: once(statement, "score"); return;
      case Kind::Mask: return;
    }
  }

  // Pass 2: expressions, now that every name is known.
  void define(const ast::Statement& statement) {
    switch (statement.kind) {
      case Kind::Scale: {
        const ir::ExprPtr value = expr(*statement.expr, Context::Constant);
        if (value->type() == ir::Type::Bool) fail(statement.expr->span, "scale must be a number");
        builder_.scale(dsl::E(value));
        return;
      }
      case Kind::Mask: {
        const ir::ExprPtr cond = expr(*statement.expr, Context::Mask);
        if (cond->type() != ir::Type::Bool) {
          fail(statement.expr->span,
               fmt::format("mask must be a bool expression, got {}", ir::type_name(cond->type())));
        }
        builder_.mask(dsl::E(cond));
        return;
      }
      case Kind::Score: {
        const ir::ExprPtr value = expr(*statement.expr, Context::Score);
        if (value->type() == ir::Type::Bool) {
          fail(statement.expr->span, "score must be a number expression, got bool");
        }
        builder_.score(dsl::E(value));
        return;
      }
      case Kind::Param: define_param(statement); return;
      default: return;
    }
  }

  DType dtype(const Token& word) {
    if (auto type = parse_dtype(word.text)) return *type;
    fail(word.span, fmt::format("unknown dtype '{}'{}", word.text,
                                did_you_mean(word.text, {"fp16", "bf16", "fp8_e4m3", "fp8_e5m2"})));
  }

  int size(const ast::Statement& statement, std::string_view keyword) {
    const std::int64_t value = statement.size.int_value;
    if (value < 1 || value > kMaxHeadDim) {
      fail(statement.size.span,
           fmt::format("{} must be in 1..{}, got {}", keyword, kMaxHeadDim, value));
    }
    return static_cast<int>(value);
  }

  // Checked before narrowing to the builder's int, so that a huge literal cannot wrap into range.
  int page_size(const Token& size) {
    const std::int64_t value = size.int_value;
    if (value < 1 || value > kMaxKvPageSize || (value & (value - 1)) != 0) {
      fail(size.span, fmt::format("kv page size must be a power of two in 1..{}, got {}",
                                  kMaxKvPageSize, value));
    }
    return static_cast<int>(value);
  }

  int sparse_block(const Token& size) {
    const std::int64_t value = size.int_value;
    if (value < 1 || value > kMaxSparseBlock) {
      fail(size.span,
           fmt::format("sparse block sizes must be in 1..{}, got {}", kMaxSparseBlock, value));
    }
    return static_cast<int>(value);
  }

  int hash_buckets(const Token& size) {
    const std::int64_t value = size.int_value;
    if (value < 1 || value > kMaxHashBuckets) {
      fail(size.span, fmt::format("hash buckets must be in 1..{}, got {}", kMaxHashBuckets, value));
    }
    return static_cast<int>(value);
  }

  void declare_name(const Token& name, Declaration declaration) {
    const std::string_view text = name.text;
    if (names::find_builtin(text) || names::find_func(text) || text == "head_dim" ||
        text == "true" || text == "false") {
      fail(name.span, fmt::format("'{}' is a built-in name and cannot be declared", text));
    }
    declaration.span = name.span;
    const auto [it, inserted] = declarations_.emplace(text, declaration);
    if (!inserted) {
      fail(name.span,
           fmt::format("'{}' is already declared on line {}", text, it->second.span.line));
    }
  }

  void declare_param(const ast::Statement& statement) {
    const auto type = parse_param_type(statement.type.text);
    if (!type) {
      fail(statement.type.span,
           fmt::format("unknown param type '{}'{}", statement.type.text,
                       did_you_mean(statement.type.text, {"i32", "f32", "bool"})));
    }
    Declaration declaration;
    declaration.param_type = *type;
    declare_name(statement.word, declaration);
  }

  void define_param(const ast::Statement& statement) {
    const auto declared = declarations_.find(statement.word.text);
    // A param whose declaration failed has been reported already.
    if (declared == declarations_.end() || declared->second.is_tensor ||
        declared->second.span.offset != statement.word.span.offset) {
      return;
    }
    const Declaration& declaration = declared->second;
    std::optional<ParamValue> default_value;
    if (statement.expr) {
      default_value = constant_value(*statement.expr, declaration.param_type);
    }
    try {
      builder_.param(std::string(statement.word.text), declaration.param_type, default_value);
    } catch (const SpecError& error) {
      fail(statement.word.span, error.what());
    }
  }

  ParamValue constant_value(const ast::Expr& written, ParamType type) {
    const ir::ExprPtr value = fold(expr(written, Context::Constant));
    const auto* i = value->as<ir::IntConst>();
    const auto* f = value->as<ir::FloatConst>();
    const auto* b = value->as<ir::BoolConst>();
    switch (type) {
      case ParamType::I32:
        if (i != nullptr && i->value >= std::numeric_limits<std::int32_t>::min() &&
            i->value <= std::numeric_limits<std::int32_t>::max()) {
          return static_cast<std::int32_t>(i->value);
        }
        fail(written.span, "default of an i32 param must be an integer that fits in 32 bits");
      case ParamType::F32:
        if (f != nullptr) return f->value;
        if (i != nullptr) return static_cast<float>(i->value);
        fail(written.span, "default of an f32 param must be a finite number");
      case ParamType::Bool:
        if (b != nullptr) return b->value;
        fail(written.span, "default of a bool param must be true or false");
    }
    fail(written.span, "bad default");
  }

  void declare_tensor(const ast::Statement& statement) {
    const auto element = parse_elem_type(statement.type.text);
    if (!element) {
      fail(statement.type.span,
           fmt::format(
               "unknown tensor element type '{}'{}", statement.type.text,
               did_you_mean(statement.type.text, {"i32", "f32", "f16", "bf16", "u8", "bool"})));
    }
    if (*element == ElemType::F8E4M3 || *element == ElemType::F8E5M2) {
      fail(statement.type.span,
           fmt::format("a tensor cannot be {} (only Q, K and V can, by dtype); its element type is "
                       "one of i32, f32, f16, bf16, u8, bool",
                       statement.type.text));
    }
    if (statement.dims.size() > static_cast<std::size_t>(kMaxTensorRank)) {
      fail(statement.dims[kMaxTensorRank].span,
           fmt::format("a tensor has at most {} dimensions", kMaxTensorRank));
    }
    std::vector<Dim> dims;
    for (const ast::Dim& dim : statement.dims) {
      if (dim.name.empty()) {
        if (dim.extent < 1) fail(dim.span, "a fixed tensor dimension must be at least 1");
        dims.emplace_back(dim.extent);
      } else if (auto kind = parse_dim_kind(dim.name)) {
        dims.emplace_back(*kind);
      } else {
        if (names::find_builtin(dim.name) || names::find_func(dim.name)) {
          fail(dim.span,
               fmt::format(
                   "'{}' cannot name a dimension: it is a built-in name{}", dim.name,
                   did_you_mean(dim.name, {"batch", "heads", "kv_heads", "q_len", "kv_len"})));
        }
        dims.emplace_back(std::string(dim.name));
      }
    }
    Declaration declaration;
    declaration.is_tensor = true;
    declaration.element = *element;
    declaration.rank = dims.size();
    declare_name(statement.word, declaration);
    try {
      builder_.tensor(std::string(statement.word.text), *element, std::move(dims));
    } catch (const SpecError& error) {
      fail(statement.word.span, error.what());
    }
  }

  std::vector<std::string_view> visible_names(Context context) const {
    std::vector<std::string_view> out;
    if (context != Context::Constant) {
      out = names::builtin_names();
      for (const auto& entry : declarations_) out.push_back(entry.first);
    }
    out.emplace_back("head_dim");
    return out;
  }

  ir::ExprPtr name(const ast::Expr& e, Context context) {
    if (e.name == "head_dim") {
      if (!head_dim_) fail(e.span, "'head_dim' is used but the variant declares no head_dim");
      return ir::int_const(*head_dim_);
    }
    const auto builtin = names::find_builtin(e.name);
    const auto declared = declarations_.find(e.name);
    const bool known = builtin || declared != declarations_.end();
    if (known && context == Context::Constant) {
      fail(e.span,
           fmt::format("'{}' is not a constant; this must be a constant expression", e.name));
    }
    if (builtin) {
      if (*builtin == ir::Builtin::Score && context != Context::Score) {
        fail(e.span, "'score' can only be used in a 'score' statement");
      }
      return ir::builtin(*builtin);
    }
    if (declared != declarations_.end()) {
      if (declared->second.is_tensor) {
        fail(e.span, fmt::format("tensor '{}' must be indexed, as in {}[...]", e.name, e.name));
      }
      return ir::param_ref(std::string(e.name), value_type(declared->second.param_type));
    }
    if (names::find_func(e.name)) {
      fail(e.span, fmt::format("'{}' is a function; call it as {}(...)", e.name, e.name));
    }
    fail(e.span,
         fmt::format("unknown name '{}'{}", e.name, did_you_mean(e.name, visible_names(context))));
  }

  ir::ExprPtr call(const ast::Expr& e, Context context) {
    const auto func = names::find_func(e.name);
    if (!func) {
      const bool other = names::find_builtin(e.name) || declarations_.count(e.name) != 0;
      fail(e.span, other ? fmt::format("'{}' is not a function", e.name)
                         : fmt::format("unknown function '{}'{}", e.name,
                                       did_you_mean(e.name, names::func_names())));
    }
    std::vector<ir::ExprPtr> args;
    for (const ast::ExprPtr& arg : e.children) args.push_back(expr(*arg, context));
    return checked(e.span, [&] { return ir::call(*func, std::move(args)); });
  }

  ir::ExprPtr index(const ast::Expr& e, Context context) {
    const auto declared = declarations_.find(e.name);
    if (declared == declarations_.end() || !declared->second.is_tensor) {
      if (declared == declarations_.end() && !names::find_builtin(e.name)) {
        std::vector<std::string_view> tensors;
        for (const auto& entry : declarations_) {
          if (entry.second.is_tensor) tensors.push_back(entry.first);
        }
        fail(e.span, fmt::format("unknown tensor '{}'{}", e.name, did_you_mean(e.name, tensors)));
      }
      fail(e.span, fmt::format("'{}' is not a tensor and cannot be indexed", e.name));
    }
    if (context == Context::Constant) {
      fail(e.span,
           fmt::format("'{}' is not a constant; this must be a constant expression", e.name));
    }
    const Declaration& tensor = declared->second;
    if (e.children.size() != tensor.rank) {
      fail(e.span, fmt::format("tensor '{}' has {} dimension{}, indexed with {}", e.name,
                               tensor.rank, tensor.rank == 1 ? "" : "s", e.children.size()));
    }
    std::vector<ir::ExprPtr> indices;
    for (const ast::ExprPtr& arg : e.children) indices.push_back(expr(*arg, context));
    return checked(e.span, [&] {
      return ir::tensor_read(std::string(e.name), value_type(tensor.element), std::move(indices));
    });
  }

  template <class Make>
  ir::ExprPtr checked(const Span& span, Make make) {
    try {
      return make();
    } catch (const SpecError& error) {
      fail(span, error.what());
    }
  }

  ir::ExprPtr expr(const ast::Expr& e, Context context) {
    using EK = ast::Expr::Kind;
    switch (e.kind) {
      case EK::Int: return ir::int_const(e.int_value);
      case EK::Float: return ir::float_const(e.float_value);
      case EK::Bool: return ir::bool_const(e.bool_value);
      case EK::Name: return name(e, context);
      case EK::Call: return call(e, context);
      case EK::Index: return index(e, context);
      case EK::Unary: {
        const ir::ExprPtr operand = expr(*e.children[0], context);
        return checked(e.span, [&] { return ir::unary(e.unary_op, operand); });
      }
      case EK::Binary: {
        const ir::ExprPtr lhs = expr(*e.children[0], context);
        const ir::ExprPtr rhs = expr(*e.children[1], context);
        return checked(e.span, [&] { return ir::binary(e.binary_op, lhs, rhs); });
      }
      case EK::Ternary: {
        const ir::ExprPtr cond = expr(*e.children[0], context);
        const ir::ExprPtr if_true = expr(*e.children[1], context);
        const ir::ExprPtr if_false = expr(*e.children[2], context);
        return checked(e.span, [&] { return ir::select(cond, if_true, if_false); });
      }
    }
    fail(e.span, "unknown expression");
  }

  const ast::Variant& parsed_;
  Diagnostics& diagnostics_;
  VariantBuilder builder_;
  std::map<std::string_view, Declaration, std::less<>> declarations_;
  std::map<Kind, int> seen_;
  std::optional<int> head_dim_;
  bool failed_ = false;
};

}  // namespace

std::optional<Variant> lower(const ast::Variant& parsed, Diagnostics& diagnostics) {
  return Lowering(parsed, diagnostics).run();
}

}  // namespace attnjit
