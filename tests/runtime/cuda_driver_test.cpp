// The dynamically loaded driver. Without a GPU only the failure path runs; the
// GpuSmoke tests compile, load and launch a kernel where there is one.
#include "runtime/cuda_driver.hpp"

#include "runtime/nvrtc_compiler.hpp"

#include <numeric>
#include <optional>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit {
namespace {

TEST(Driver, WithoutGpuThrowsNoGpuError) {
  try {
    const Driver driver;
    GTEST_SKIP() << "a CUDA driver with " << driver.device_count() << " GPU(s) is present";
  } catch (const NoGpuError& error) {
    EXPECT_NE(std::string(error.what()), "");
  }
}

// y[i] = a * x[i] + i, reading x through dynamic shared memory so that a launch
// with more than 48 KiB of it exercises the opt-in.
constexpr const char* kAxpyKernel = R"(
extern "C" __global__ void axpy(const float* x, float* y, float a, int n) {
  extern __shared__ float staged[];
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  staged[threadIdx.x] = i < n ? x[i] : 0.0f;
  __syncthreads();
  if (i < n) y[i] = a * staged[threadIdx.x] + i;
}
)";

class GpuSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    try {
      driver_.emplace();
    } catch (const NoGpuError& error) {
      GTEST_SKIP() << "no GPU here: " << error.what();
    }
    context_.emplace(*driver_, 0);
  }

  Driver& driver() { return *driver_; }
  Context& context() { return *context_; }

 private:
  // Declared before the context so that it is destroyed after it.
  std::optional<Driver> driver_;
  std::optional<Context> context_;
};

TEST_F(GpuSmoke, DescribesTheDevice) {
  EXPECT_GE(driver().device_count(), 1);
  EXPECT_GE(context().major(), 8);
  EXPECT_FALSE(context().name().empty());
  EXPECT_GT(context().sm_count(), 0);
  EXPECT_GE(context().max_smem_optin(), 48 * 1024);
  EXPECT_EQ(context().arch().rfind("sm_", 0), 0);
}

TEST_F(GpuSmoke, CompilesLoadsAndLaunches) {
  const CompiledKernel kernel =
      compile_kernel({"axpy.cu", kAxpyKernel, {}, "axpy"}, {context().arch(), {}});
  const Module module(context(), kernel.cubin);
  CUfunction function = module.function(kernel.lowered_name);

  constexpr int kN = 1000;
  std::vector<float> x(kN);
  std::iota(x.begin(), x.end(), 0.0F);
  DeviceBuffer x_device(context(), kN * sizeof(float));
  DeviceBuffer y_device(context(), kN * sizeof(float));
  x_device.upload(x.data(), kN * sizeof(float));
  y_device.fill_bytes(0xFF);

  const Stream stream(context());
  Event start(context());
  Event stop(context());
  CUdeviceptr x_ptr = x_device.ptr();
  CUdeviceptr y_ptr = y_device.ptr();
  float a = 3.0F;
  int n = kN;
  std::vector<void*> args = {&x_ptr, &y_ptr, &a, &n};
  constexpr unsigned kBlock = 128;
  // 64 KiB: more than the default 48 KiB, so launch() must opt the function in.
  constexpr unsigned kDynamicSmem = 64 * 1024;
  start.record(stream);
  launch(driver(), function, {(kN + kBlock - 1) / kBlock, 1, 1}, {kBlock, 1, 1}, kDynamicSmem,
         stream.get(), args.data());
  stop.record(stream);
  stream.synchronize();
  stop.synchronize();
  EXPECT_GE(stop.elapsed_ms(start), 0.0F);

  std::vector<float> y(kN);
  y_device.download(y.data(), kN * sizeof(float));
  for (int i = 0; i < kN; ++i) ASSERT_EQ(y[i], 3.0F * static_cast<float>(i) + i) << i;
}

TEST_F(GpuSmoke, ReportsMissingKernelAndOversizedCopies) {
  const CompiledKernel kernel =
      compile_kernel({"axpy.cu", kAxpyKernel, {}, "axpy"}, {context().arch(), {}});
  const Module module(context(), kernel.cubin);
  EXPECT_THROW((void)module.function("no_such_kernel"), CudaError);
  DeviceBuffer buffer(context(), 16);
  std::vector<char> bytes(32);
  EXPECT_THROW(buffer.upload(bytes.data(), bytes.size()), Error);
  EXPECT_THROW(buffer.download(bytes.data(), bytes.size()), Error);
}

}  // namespace
}  // namespace attnjit
