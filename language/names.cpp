#include "language/names.hpp"

#include <array>
#include <utility>

namespace attnjit {
namespace {

using ir::Builtin;
using ir::Func;

constexpr std::array kBuiltins = {
    std::pair{Builtin::B, std::string_view{"b"}},
    std::pair{Builtin::H, std::string_view{"h"}},
    std::pair{Builtin::Hkv, std::string_view{"hkv"}},
    std::pair{Builtin::Q, std::string_view{"q"}},
    std::pair{Builtin::K, std::string_view{"k"}},
    std::pair{Builtin::Batch, std::string_view{"batch"}},
    std::pair{Builtin::Heads, std::string_view{"heads"}},
    std::pair{Builtin::KvHeads, std::string_view{"kv_heads"}},
    std::pair{Builtin::QLen, std::string_view{"q_len"}},
    std::pair{Builtin::KvLen, std::string_view{"kv_len"}},
    std::pair{Builtin::Score, std::string_view{"score"}},
    std::pair{Builtin::Causal, std::string_view{"causal"}},
};

// Name and arity of each function, in enum order.
constexpr std::array kFuncs = {
    std::pair{std::string_view{"abs"}, 1},     std::pair{std::string_view{"min"}, 2},
    std::pair{std::string_view{"max"}, 2},     std::pair{std::string_view{"clamp"}, 3},
    std::pair{std::string_view{"exp"}, 1},     std::pair{std::string_view{"exp2"}, 1},
    std::pair{std::string_view{"log"}, 1},     std::pair{std::string_view{"log2"}, 1},
    std::pair{std::string_view{"sqrt"}, 1},    std::pair{std::string_view{"rsqrt"}, 1},
    std::pair{std::string_view{"tanh"}, 1},    std::pair{std::string_view{"sigmoid"}, 1},
    std::pair{std::string_view{"floor"}, 1},   std::pair{std::string_view{"ceil"}, 1},
    std::pair{std::string_view{"softcap"}, 2},
};
static_assert(kFuncs.size() == static_cast<std::size_t>(Func::Softcap) + 1);

constexpr std::array kStatements = {
    std::string_view{"dtype"},      std::string_view{"out_dtype"}, std::string_view{"head_dim"},
    std::string_view{"head_dim_v"}, std::string_view{"scale"},     std::string_view{"mask"},
    std::string_view{"score"},      std::string_view{"param"},     std::string_view{"tensor"},
    std::string_view{"kv"},         std::string_view{"sparsity"},  std::string_view{"approx"},
    std::string_view{"quant"},
};

}  // namespace

namespace ir {

std::string_view type_name(Type type) {
  switch (type) {
    case Type::Int: return "int";
    case Type::Float: return "float";
    case Type::Bool: return "bool";
  }
  return "?";
}

std::string_view builtin_name(Builtin which) {
  for (const auto& [builtin, name] : kBuiltins) {
    if (builtin == which) return name;
  }
  return "?";
}

Type builtin_type(Builtin which) {
  switch (which) {
    case Builtin::Score: return Type::Float;
    case Builtin::Causal: return Type::Bool;
    default: return Type::Int;
  }
}

std::string_view unary_spelling(UnaryOp op) { return op == UnaryOp::Neg ? "-" : "!"; }

std::string_view binary_spelling(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "+";
    case BinaryOp::Sub: return "-";
    case BinaryOp::Mul: return "*";
    case BinaryOp::Div: return "/";
    case BinaryOp::Mod: return "%";
    case BinaryOp::Lt: return "<";
    case BinaryOp::Le: return "<=";
    case BinaryOp::Gt: return ">";
    case BinaryOp::Ge: return ">=";
    case BinaryOp::Eq: return "==";
    case BinaryOp::Ne: return "!=";
    case BinaryOp::And: return "&&";
    case BinaryOp::Or: return "||";
  }
  return "?";
}

std::string_view func_name(Func func) { return kFuncs.at(static_cast<std::size_t>(func)).first; }
int func_arity(Func func) { return kFuncs.at(static_cast<std::size_t>(func)).second; }

}  // namespace ir

namespace names {

std::optional<ir::Builtin> find_builtin(std::string_view name) {
  for (const auto& [builtin, spelling] : kBuiltins) {
    if (spelling == name) return builtin;
  }
  return std::nullopt;
}

std::optional<ir::Func> find_func(std::string_view name) {
  for (std::size_t i = 0; i < kFuncs.size(); ++i) {
    if (kFuncs.at(i).first == name) return static_cast<ir::Func>(i);
  }
  return std::nullopt;
}

std::vector<std::string_view> builtin_names() {
  std::vector<std::string_view> out;
  for (const auto& entry : kBuiltins) out.push_back(entry.second);
  return out;
}

std::vector<std::string_view> func_names() {
  std::vector<std::string_view> out;
  for (const auto& entry : kFuncs) out.push_back(entry.first);
  return out;
}

std::vector<std::string_view> statement_keywords() {
  return {kStatements.begin(), kStatements.end()};
}

}  // namespace names
}  // namespace attnjit
