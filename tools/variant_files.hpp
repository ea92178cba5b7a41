// Reading variant files for the commands: the source text (bounded), every
// valid variant, or a CliError after printing the file's diagnostics.
#pragma once

#include "codegen/arch.hpp"
#include <attnjit/variant.hpp>

#include <optional>
#include <string>
#include <vector>

namespace attnjit::cli {

// Reads at most one byte past the parser's limit; empty when unreadable.
std::optional<std::string> read_source(const std::string& path);

// The variants of `paths`, or only the one called `name` when given.
// Diagnostics go to stderr; any error throws CliError(kBadInput).
std::vector<Variant> load_variants(const std::vector<std::string>& paths,
                                   const std::optional<std::string>& name);

// `--arch` if given, else the arch of GPU 0; CliError(kEnvironment) when there is none.
codegen::Arch target_arch(const std::optional<std::string>& arch);

}  // namespace attnjit::cli
