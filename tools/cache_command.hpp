// `attnjit cache ls | show ID | source ID | stats | verify | prune | clear |
// export F | import F | path`: look into and look after the kernel cache
// (db::KernelStore), each subcommand with `--cache-dir DIR`.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace attnjit::cli {

void add_cache_command(CLI::App& app, std::function<int()>& run);

}  // namespace attnjit::cli
