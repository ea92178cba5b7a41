// Spellings of the language's built-in names, functions and keywords, and
// lookups from spelling to meaning.
#pragma once

#include <attnjit/ir.hpp>

#include <optional>
#include <string_view>
#include <vector>

namespace attnjit::names {

std::optional<ir::Builtin> find_builtin(std::string_view name);
std::optional<ir::Func> find_func(std::string_view name);

// Every spelling of a kind, for "did you mean" suggestions.
std::vector<std::string_view> builtin_names();
std::vector<std::string_view> func_names();
std::vector<std::string_view> statement_keywords();

}  // namespace attnjit::names
