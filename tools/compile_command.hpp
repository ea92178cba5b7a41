// `attnjit compile FILE... [--variant NAME] [--family F] [--config K=V,...] [--arch sm_XX]
// [--json]`: generate and compile kernels with NVRTC, on all cores, and report their resources.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace attnjit::cli {

void add_compile_command(CLI::App& app, std::function<int()>& run);

}  // namespace attnjit::cli
