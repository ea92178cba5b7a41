// From generated candidates to one compiled kernel per variant: compile the
// preferred candidate of every variant at once, and fall back to the next one
// only where the compile report shows spills.
#pragma once

#include "codegen/family.hpp"
#include "runtime/nvrtc_compiler.hpp"

#include <optional>
#include <string>
#include <vector>

namespace attnjit {

struct BuiltKernel {
  codegen::Generated generated;
  CompiledKernel compiled;
  double total_compile_ms = 0;  // over every candidate tried
};

struct BuildOutcome {
  std::optional<BuiltKernel> kernel;
  std::string error;  // NVRTC's message when the kernel is empty
};

// candidates[i] lists variant i's configs, preferred first. Each round compiles
// the current candidate of every unfinished variant on all cores; a variant is
// done at its first candidate without spills, or at its last candidate.
std::vector<BuildOutcome> build_kernels(
    const std::vector<std::vector<codegen::Generated>>& candidates, const std::string& arch);

}  // namespace attnjit
