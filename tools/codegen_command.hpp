// `attnjit codegen FILE [--variant NAME] [--family F] [--config K=V,...] [--arch sm_XX]`:
// print the CUDA source generated for one variant.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace attnjit::cli {

void add_codegen_command(CLI::App& app, std::function<int()>& run);

}  // namespace attnjit::cli
