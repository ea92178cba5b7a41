// `attnjit check [--json] FILE...`: parse and check variant files, print each
// variant's name, hash and canonical form.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace attnjit::cli {

// Adds the subcommand to `app`; `run` is set to what executes it.
void add_check_command(CLI::App& app, std::function<int()>& run);

}  // namespace attnjit::cli
