#include "runtime/nvrtc_compiler.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <mutex>
#include <string_view>
#include <thread>

#include <fmt/format.h>
#include <nvrtc.h>

namespace attnjit {
namespace {

void check(nvrtcResult result, std::string_view call) {
  if (result != NVRTC_SUCCESS) {
    throw Error(fmt::format("{} failed: {}", call, nvrtcGetErrorString(result)));
  }
}

// Owns one nvrtcProgram; the program holds the log, the name map and the cubin,
// so it must outlive every read of them.
class Program {
 public:
  explicit Program(const KernelSource& source) {
    std::vector<const char*> contents;
    std::vector<const char*> names;
    contents.reserve(source.headers.size());
    names.reserve(source.headers.size());
    for (const auto& [name, text] : source.headers) {
      names.push_back(name.c_str());
      contents.push_back(text.c_str());
    }
    check(nvrtcCreateProgram(&handle_, source.code.c_str(), source.name.c_str(),
                             static_cast<int>(contents.size()), contents.data(), names.data()),
          "nvrtcCreateProgram");
  }
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;
  Program(Program&&) = delete;
  Program& operator=(Program&&) = delete;
  // A failure here cannot be reported from a destructor, and the handle is gone
  // either way.
  ~Program() { nvrtcDestroyProgram(&handle_); }

  [[nodiscard]] nvrtcProgram get() const { return handle_; }

 private:
  nvrtcProgram handle_ = nullptr;
};

std::string program_log(nvrtcProgram program) {
  std::size_t size = 0;
  check(nvrtcGetProgramLogSize(program, &size), "nvrtcGetProgramLogSize");
  std::string log(size, '\0');
  check(nvrtcGetProgramLog(program, log.data()), "nvrtcGetProgramLog");
  // The size counts the terminating NUL.
  while (!log.empty() && log.back() == '\0') log.pop_back();
  return log;
}

// A virtual architecture (compute_XX) would leave NVRTC with PTX and no cubin,
// which the rest of the pipeline cannot load or measure.
void require_real_arch(const std::string& arch) {
  constexpr std::string_view kPrefix = "sm_";
  std::string_view rest = arch;
  bool valid = rest.starts_with(kPrefix);
  if (valid) {
    rest.remove_prefix(kPrefix.size());
    if (rest.ends_with('a') || rest.ends_with('f')) rest.remove_suffix(1);
    valid = rest.size() >= 2 &&
            std::all_of(rest.begin(), rest.end(), [](char c) { return c >= '0' && c <= '9'; });
  }
  if (!valid) {
    throw InputError(fmt::format(
        "architecture '{}' is not a real GPU architecture like sm_80 or sm_90a; NVRTC makes "
        "a cubin only for those",
        arch));
  }
}

// The integer just before `suffix` in `line`, as in "Used 8 registers".
std::optional<int> number_before(std::string_view line, std::string_view suffix) {
  const std::size_t end = line.find(suffix);
  if (end == std::string_view::npos) return std::nullopt;
  std::size_t begin = end;
  while (begin > 0 && line[begin - 1] >= '0' && line[begin - 1] <= '9') --begin;
  int value = 0;
  const auto [ptr, error] = std::from_chars(line.data() + begin, line.data() + end, value);
  if (error != std::errc{} || ptr != line.data() + end) return std::nullopt;
  return value;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\n'), text.size());
    lines.push_back(text.substr(0, end));
    text.remove_prefix(std::min(end + 1, text.size()));
  }
  return lines;
}

// Reads ptxas's -v report of one entry function. NVRTC 13 writes, per entry:
//   ptxas info    : Compiling entry function 'NAME' for 'sm_80'
//   ptxas info    : Function properties for NAME
//   ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
//   ptxas info    : Used 10 registers, used 1 barriers, 1024 bytes smem, 364 bytes cmem[0]
// with ", N bytes cumulative stack size" in the last line when the kernel needs
// a stack (spills, local arrays, callees that were not inlined). The properties
// of such callees follow in blocks of their own, so only the entry's is read.
void parse_ptxas_report(std::string_view log, const std::string& lowered_name,
                        CompileReport& report) {
  const std::string entry = fmt::format("Compiling entry function '{}'", lowered_name);
  const std::string properties = fmt::format("Function properties for {}", lowered_name);
  const std::vector<std::string_view> lines = split_lines(log);
  auto line = std::find_if(lines.begin(), lines.end(), [&](std::string_view l) {
    return l.find(entry) != std::string_view::npos;
  });
  if (line == lines.end()) {
    throw Error(fmt::format(
        "ptxas reported no entry function '{}'; the kernel name must name a __global__ function",
        lowered_name));
  }
  bool found_registers = false;
  std::optional<int> cumulative_stack;
  for (++line; line != lines.end(); ++line) {
    const std::string_view text = *line;
    if (text.find("Compiling entry function") != std::string_view::npos) break;
    if (text.ends_with(properties) && std::next(line) != lines.end()) {
      const std::string_view usage = *std::next(line);
      report.stack_bytes = number_before(usage, " bytes stack frame").value_or(0);
      report.spill_store_bytes = number_before(usage, " bytes spill stores").value_or(0);
      report.spill_load_bytes = number_before(usage, " bytes spill loads").value_or(0);
    } else if (const std::optional<int> registers = number_before(text, " registers");
               registers && text.find("Used ") != std::string_view::npos) {
      found_registers = true;
      report.registers = *registers;
      report.static_smem_bytes = number_before(text, " bytes smem").value_or(0);
      cumulative_stack = number_before(text, " bytes cumulative stack size");
    }
  }
  if (!found_registers) {
    throw Error(fmt::format("ptxas's report for '{}' has no 'Used N registers' line:\n{}",
                            lowered_name, log));
  }
  if (cumulative_stack) report.stack_bytes = *cumulative_stack;
}

}  // namespace

CompileError::CompileError(const std::string& name, const std::string& arch, std::string log)
    : Error(fmt::format("NVRTC failed to compile {} for {}:\n{}", name, arch, log)),
      log_(std::move(log)) {}

std::vector<std::string> nvrtc_options(const CompileOptions& options) {
  // -default-device lets generated helpers omit __device__; --ptxas-options=-v
  // makes ptxas write the resource report that is parsed below. --no-cache:
  // where a driver is installed, NVRTC 13 otherwise serves repeated programs
  // from the driver's on-disk compute cache without running ptxas, so the
  // report is missing; attnjit caches cubins with their reports itself.
  std::vector<std::string> out = {"-arch=" + options.arch, "-std=c++17", "-default-device",
                                  "--ptxas-options=-v", "--no-cache"};
  out.insert(out.end(), options.extra.begin(), options.extra.end());
  return out;
}

CompiledKernel compile_kernel(const KernelSource& source, const CompileOptions& options) {
  require_real_arch(options.arch);
  const Program program(source);
  check(nvrtcAddNameExpression(program.get(), source.kernel_name.c_str()),
        "nvrtcAddNameExpression");

  const std::vector<std::string> option_strings = nvrtc_options(options);
  std::vector<const char*> option_pointers;
  option_pointers.reserve(option_strings.size());
  for (const std::string& option : option_strings) option_pointers.push_back(option.c_str());

  const auto start = std::chrono::steady_clock::now();
  const nvrtcResult compiled = nvrtcCompileProgram(
      program.get(), static_cast<int>(option_pointers.size()), option_pointers.data());
  const auto stop = std::chrono::steady_clock::now();

  CompiledKernel kernel;
  kernel.report.log = program_log(program.get());
  if (compiled != NVRTC_SUCCESS) {
    // Failures before parsing (a bad option) can leave the log empty.
    std::string log =
        kernel.report.log.empty() ? nvrtcGetErrorString(compiled) : std::move(kernel.report.log);
    throw CompileError(source.name, options.arch, std::move(log));
  }
  kernel.report.compile_ms = std::chrono::duration<double, std::milli>(stop - start).count();

  const char* lowered = nullptr;
  check(nvrtcGetLoweredName(program.get(), source.kernel_name.c_str(), &lowered),
        "nvrtcGetLoweredName");
  kernel.lowered_name = lowered;

  std::size_t cubin_size = 0;
  check(nvrtcGetCUBINSize(program.get(), &cubin_size), "nvrtcGetCUBINSize");
  if (cubin_size == 0) {
    throw Error(fmt::format("NVRTC produced no cubin for {} ({})", source.name, options.arch));
  }
  kernel.cubin.resize(cubin_size);
  check(nvrtcGetCUBIN(program.get(), kernel.cubin.data()), "nvrtcGetCUBIN");

  parse_ptxas_report(kernel.report.log, kernel.lowered_name, kernel.report);
  return kernel;
}

std::vector<CompileOutcome> compile_kernels(
    const std::vector<std::pair<KernelSource, CompileOptions>>& jobs, unsigned threads) {
  std::vector<CompileOutcome> outcomes(jobs.size());
  if (threads == 0) threads = std::max(1U, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, jobs.size()));

  std::atomic<std::size_t> next{0};
  // Errors of attnjit's own kinds belong to their job; anything else (out of
  // memory, a bug) is not the job's fault and is rethrown to the caller.
  std::mutex unexpected_mutex;
  std::exception_ptr unexpected;
  const auto work = [&] {
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
      try {
        outcomes[i].kernel = compile_kernel(jobs[i].first, jobs[i].second);
      } catch (const Error& error) {
        outcomes[i].error = error.what();
      } catch (...) {
        const std::lock_guard lock(unexpected_mutex);
        if (!unexpected) unexpected = std::current_exception();
      }
    }
  };
  {
    std::vector<std::jthread> workers;
    workers.reserve(threads);
    for (unsigned t = 0; t < threads; ++t) workers.emplace_back(work);
  }
  if (unexpected) std::rethrow_exception(unexpected);
  return outcomes;
}

std::string nvrtc_version() {
  int major = 0;
  int minor = 0;
  check(nvrtcVersion(&major, &minor), "nvrtcVersion");
  return fmt::format("{}.{}", major, minor);
}

}  // namespace attnjit
