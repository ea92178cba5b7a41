// `attnjit tune FILE... --shape SHAPE... [--budget SECONDS] [--strategy S] [--json]`:
// search each variant's configs on GPU 0 for each shape, store the best as a
// tuning record, and print a table of the results. Also the hidden
// `__measure-worker` command: the process tune measures in.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace attnjit::cli {

void add_tune_command(CLI::App& app, std::function<int()>& run);

}  // namespace attnjit::cli
