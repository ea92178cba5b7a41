// NVRTC compilation up to the cubin and ptxas's resource report; no GPU needed.
#include "runtime/nvrtc_compiler.hpp"

#include <regex>
#include <string>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

constexpr const char* kScaleKernel = R"(
#include "scale.cuh"
extern "C" __global__ void attnjit_fwd(float* x, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) x[i] = scaled(x[i]);
}
template <int N> __global__ void add(float* x) { x[threadIdx.x] += N; }
)";

KernelSource scale_source(std::string kernel_name = "attnjit_fwd") {
  return {"scale.cu",
          kScaleKernel,
          {{"scale.cuh", "inline float scaled(float v) { return 2.0f * v + 1.0f; }\n"}},
          std::move(kernel_name)};
}

// Sixty-four values live at once: under a tight register cap they must spill.
constexpr const char* kSpillKernel = R"(
extern "C" __global__ void spill(const float* in, float* out) {
  float acc[64];
#pragma unroll
  for (int i = 0; i < 64; ++i) acc[i] = in[threadIdx.x + i * 32];
#pragma unroll
  for (int r = 0; r < 4; ++r) {
#pragma unroll
    for (int i = 0; i < 64; ++i) acc[i] = acc[i] * acc[(i + r + 1) & 63] + 1.0f;
  }
  float sum = 0;
#pragma unroll
  for (int i = 0; i < 64; ++i) sum += acc[i] * (i + 1);
  out[threadIdx.x] = sum;
}
)";

// Line 3 lacks its semicolon.
constexpr const char* kBrokenKernel =
    "extern \"C\" __global__ void attnjit_fwd(float* x) {\n"
    "  float y = x[0]\n"
    "  x[1] = y;\n"
    "}\n";

bool is_elf(const std::vector<char>& bytes) {
  return bytes.size() > 4 && bytes[0] == '\x7f' && bytes[1] == 'E' && bytes[2] == 'L' &&
         bytes[3] == 'F';
}

class CompileForArch : public ::testing::TestWithParam<std::string> {};

TEST_P(CompileForArch, GivesCubinAndResourceReport) {
  const CompiledKernel kernel = compile_kernel(scale_source(), {GetParam(), {}});
  EXPECT_TRUE(is_elf(kernel.cubin));
  EXPECT_EQ(kernel.lowered_name, "attnjit_fwd");
  EXPECT_GT(kernel.report.registers, 0);
  EXPECT_EQ(kernel.report.spill_store_bytes, 0);
  EXPECT_EQ(kernel.report.spill_load_bytes, 0);
  EXPECT_EQ(kernel.report.stack_bytes, 0);
  EXPECT_EQ(kernel.report.static_smem_bytes, 0);
  EXPECT_GT(kernel.report.compile_ms, 0);
  EXPECT_NE(kernel.report.log.find("Compiling entry function 'attnjit_fwd' for '" + GetParam()),
            std::string::npos)
      << kernel.report.log;
}

INSTANTIATE_TEST_SUITE_P(Archs, CompileForArch, ::testing::Values("sm_80", "sm_90a"));

TEST(Compile, LowersTemplateInstantiation) {
  const CompiledKernel kernel = compile_kernel(scale_source("add<3>"), {"sm_80", {}});
  EXPECT_EQ(kernel.lowered_name, "_Z3addILi3EEvPf");
  EXPECT_GT(kernel.report.registers, 0);
}

TEST(Compile, ReportsStaticSharedMemory) {
  const KernelSource source{"smem.cu",
                            "extern \"C\" __global__ void k(float* x) {\n"
                            "  __shared__ float tile[256];\n"
                            "  tile[threadIdx.x] = x[threadIdx.x];\n"
                            "  __syncthreads();\n"
                            "  x[threadIdx.x] = tile[255 - threadIdx.x];\n"
                            "}\n",
                            {},
                            "k"};
  EXPECT_EQ(compile_kernel(source, {"sm_90a", {}}).report.static_smem_bytes, 1024);
}

TEST(Compile, ReportsSpills) {
  const KernelSource source{"spill.cu", kSpillKernel, {}, "spill"};
  const CompiledKernel kernel = compile_kernel(source, {"sm_80", {"-maxrregcount=16"}});
  EXPECT_GT(kernel.report.spill_store_bytes, 0) << kernel.report.log;
  EXPECT_GT(kernel.report.spill_load_bytes, 0);
  EXPECT_GT(kernel.report.stack_bytes, 0);
  // ptxas raises a cap below the ABI minimum, and says so in the log.
  EXPECT_GE(kernel.report.registers, 16);
}

TEST(Compile, SyntaxErrorThrowsWithNvrtcDiagnostic) {
  const KernelSource source{"broken.cu", kBrokenKernel, {}, "attnjit_fwd"};
  try {
    compile_kernel(source, {"sm_80", {}});
    FAIL() << "expected CompileError";
  } catch (const CompileError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("NVRTC failed to compile broken.cu for sm_80:\n", 0), 0) << message;
    // NVRTC 13 locates a diagnostic as file(line), then quotes the line
    // (indented by two) with a caret under the column.
    EXPECT_NE(message.find("broken.cu(3): error: expected a \";\"\n    x[1] = y;\n    ^\n"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(error.log()), std::string::npos);
  }
}

TEST(Compile, BadOptionThrowsCompileError) {
  const KernelSource source = scale_source();
  EXPECT_THROW(compile_kernel(source, {"sm_80", {"--no-such-option"}}), CompileError);
}

TEST(Compile, UnknownKernelNameThrowsCompileError) {
  EXPECT_THROW(compile_kernel(scale_source("no_such_kernel"), {"sm_80", {}}), CompileError);
}

TEST(Compile, RejectsNameOfDeviceFunction) {
  // -default-device makes the header's scaled() a __device__ function: it has
  // a lowered name but no entry in the cubin.
  EXPECT_THROW(compile_kernel(scale_source("scaled"), {"sm_80", {}}), Error);
}

TEST(Compile, RejectsVirtualAndMalformedArchs) {
  for (const char* arch : {"compute_80", "sm80", "sm_", "sm_8x", "", "80"}) {
    EXPECT_THROW(compile_kernel(scale_source(), {arch, {}}), InputError) << arch;
  }
}

TEST(CompileMany, KeepsInputOrderAndReportsFailuresInTheirSlots) {
  const std::vector<std::pair<KernelSource, CompileOptions>> jobs = {
      {scale_source(), {"sm_80", {}}},
      {scale_source("add<1>"), {"sm_90a", {}}},
      {{"broken.cu", kBrokenKernel, {}, "attnjit_fwd"}, {"sm_80", {}}},
      {scale_source("add<2>"), {"sm_86", {}}},
  };
  const std::vector<CompileOutcome> outcomes = compile_kernels(jobs, 2);
  ASSERT_EQ(outcomes.size(), 4U);
  ASSERT_TRUE(outcomes[0].kernel);
  EXPECT_EQ(outcomes[0].kernel->lowered_name, "attnjit_fwd");
  ASSERT_TRUE(outcomes[1].kernel);
  EXPECT_EQ(outcomes[1].kernel->lowered_name, "_Z3addILi1EEvPf");
  EXPECT_FALSE(outcomes[2].kernel);
  EXPECT_NE(outcomes[2].error.find("NVRTC failed to compile broken.cu for sm_80"),
            std::string::npos);
  ASSERT_TRUE(outcomes[3].kernel);
  EXPECT_EQ(outcomes[3].kernel->lowered_name, "_Z3addILi2EEvPf");
  for (const std::size_t i : {0U, 1U, 3U}) EXPECT_TRUE(outcomes[i].error.empty()) << i;
}

TEST(CompileMany, DefaultThreadCountAndEmptyInput) {
  EXPECT_TRUE(compile_kernels({}).empty());
  const std::vector<CompileOutcome> one = compile_kernels({{scale_source(), {"sm_80", {}}}});
  ASSERT_EQ(one.size(), 1U);
  EXPECT_TRUE(one[0].kernel);
}

TEST(NvrtcVersion, IsMajorDotMinor) {
  EXPECT_TRUE(std::regex_match(nvrtc_version(), std::regex(R"(\d+\.\d+)"))) << nvrtc_version();
}

}  // namespace
}  // namespace attnjit
