// In-process compilation of generated CUDA source to a cubin with NVRTC, with
// the resource usage ptxas reports, so that a kernel can be judged (registers,
// spills, shared memory) before any GPU sees it.
#pragma once

#include <attnjit/error.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attnjit {

struct KernelSource {
  std::string name;  // file name shown in NVRTC's log, e.g. "causal_sm80.cu"
  std::string code;  // the main translation unit
  std::vector<std::pair<std::string, std::string>> headers;  // (include name, contents)
  // Name expression to lower: "attnjit_fwd" (extern "C") or a template instantiation.
  std::string kernel_name;
};

struct CompileOptions {
  std::string arch;                // a real architecture: "sm_80", "sm_90a", ...
  std::vector<std::string> extra;  // more NVRTC options, after the fixed ones
};

// What ptxas says about the kernel's entry function.
struct CompileReport {
  int registers = 0;
  int static_smem_bytes = 0;
  int spill_store_bytes = 0;
  int spill_load_bytes = 0;
  // Per-thread stack including callees that were not inlined (ptxas's
  // cumulative stack size), else the entry's own frame.
  int stack_bytes = 0;
  double compile_ms = 0;  // nvrtcCompileProgram alone
  std::string log;        // NVRTC's whole log: front-end warnings and ptxas's -v lines
};

struct CompiledKernel {
  std::vector<char> cubin;
  std::string lowered_name;  // the symbol to look up in the loaded module
  CompileReport report;
};

// NVRTC rejected the program (a diagnostic, a bad option); the message carries
// NVRTC's full log.
class CompileError : public Error {
 public:
  CompileError(const std::string& name, const std::string& arch, std::string log);
  [[nodiscard]] const std::string& log() const { return log_; }

 private:
  std::string log_;
};

// Every option NVRTC gets for `options`, in order.
std::vector<std::string> nvrtc_options(const CompileOptions& options);

// Throws CompileError when NVRTC rejects the program, InputError for an arch
// that is not a real sm_XX architecture, Error for other NVRTC failures.
CompiledKernel compile_kernel(const KernelSource& source, const CompileOptions& options);

struct CompileOutcome {
  std::optional<CompiledKernel> kernel;
  std::string error;  // the failure's message when kernel is empty
};

// Compiles every job on `threads` worker threads (0: one per hardware thread).
// Results are in the order of `jobs`; a job that fails holds its message.
std::vector<CompileOutcome> compile_kernels(
    const std::vector<std::pair<KernelSource, CompileOptions>>& jobs, unsigned threads = 0);

// "major.minor" of the NVRTC library in use: part of every cache key.
std::string nvrtc_version();

}  // namespace attnjit
