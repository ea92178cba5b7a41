// `attnjit run FILE --shape SHAPE [--variant NAME] [--check] [--iters N] [--json]`:
// compile one variant for GPU 0, run it on random inputs, optionally check it
// against the CPU reference and time it (median ms and TFLOP/s as
// ../shared/bench/peers.py counts them).
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace attnjit::cli {

void add_run_command(CLI::App& app, std::function<int()>& run);

}  // namespace attnjit::cli
