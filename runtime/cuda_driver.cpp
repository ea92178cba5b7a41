#include "runtime/cuda_driver.hpp"

#include <array>
#include <utility>

#include <dlfcn.h>
#include <fmt/format.h>

namespace attnjit {
namespace {

// Above this, a kernel must opt in to dynamic shared memory explicitly.
constexpr unsigned kDefaultDynamicSmemLimit = 48 * 1024;

// Handles are created in their context, which the driver takes from the thread.
const Driver& made_current(const Context& context) {
  context.make_current();
  return context.driver();
}

void require_fits(std::size_t bytes, std::size_t size, const char* what) {
  if (bytes > size) {
    throw Error(fmt::format("{} of {} bytes into a device buffer of {} bytes", what, bytes, size));
  }
}

}  // namespace

Driver::Driver() {
  // RTLD_NODELETE: a driver that has been initialised cannot be unmapped safely
  // (it keeps threads and atexit handlers), so dlclose only drops the reference.
  library_.reset(dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE));
  if (!library_) {
    throw NoGpuError(fmt::format("no CUDA driver: cannot load libcuda.so.1 ({})", dlerror()),
                     CUDA_ERROR_NO_DEVICE);
  }
  // cuGetProcAddress_v2 (drivers for CUDA 12.0 and later) hands out each entry
  // point in the version that matches the <cuda.h> we were compiled with, so
  // the decltype'd pointer types below are exact.
  void* const symbol = dlsym(library_.get(), "cuGetProcAddress_v2");
  // POSIX guarantees that dlsym's void* converts to the function's pointer type.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  get_proc_address_ = reinterpret_cast<decltype(get_proc_address_)>(symbol);
  if (get_proc_address_ == nullptr) {
    throw CudaError(
        "the CUDA driver is older than CUDA 12.0 (libcuda.so.1 has no "
        "cuGetProcAddress_v2); update the NVIDIA driver",
        CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER);
  }
  load(get_error_name_, "cuGetErrorName");
  load(get_error_string_, "cuGetErrorString");
  load(init_, "cuInit");
  load(driver_get_version_, "cuDriverGetVersion");
  load(device_get_count_, "cuDeviceGetCount");
  load(device_get_, "cuDeviceGet");
  load(device_get_attribute_, "cuDeviceGetAttribute");
  load(device_get_name_, "cuDeviceGetName");
  load(primary_ctx_retain_, "cuDevicePrimaryCtxRetain");
  load(primary_ctx_release_, "cuDevicePrimaryCtxRelease");
  load(ctx_set_current_, "cuCtxSetCurrent");
  load(ctx_push_current_, "cuCtxPushCurrent");
  load(ctx_pop_current_, "cuCtxPopCurrent");
  load(module_load_data_, "cuModuleLoadData");
  load(module_unload_, "cuModuleUnload");
  load(module_get_function_, "cuModuleGetFunction");
  load(mem_alloc_, "cuMemAlloc");
  load(mem_free_, "cuMemFree");
  load(mem_alloc_async_, "cuMemAllocAsync");
  load(mem_free_async_, "cuMemFreeAsync");
  load(memcpy_htod_, "cuMemcpyHtoD");
  load(memcpy_dtoh_, "cuMemcpyDtoH");
  load(memset_d8_, "cuMemsetD8");
  load(memset_d8_async_, "cuMemsetD8Async");
  load(stream_create_, "cuStreamCreate");
  load(stream_destroy_, "cuStreamDestroy");
  load(stream_synchronize_, "cuStreamSynchronize");
  load(event_create_, "cuEventCreate");
  load(event_destroy_, "cuEventDestroy");
  load(event_record_, "cuEventRecord");
  load(event_synchronize_, "cuEventSynchronize");
  load(event_elapsed_time_, "cuEventElapsedTime");
  load(func_set_attribute_, "cuFuncSetAttribute");
  load(max_active_blocks_, "cuOccupancyMaxActiveBlocksPerMultiprocessor");
  load(ctx_get_device_, "cuCtxGetDevice");
  load(launch_kernel_, "cuLaunchKernel");
  load(launch_kernel_ex_, "cuLaunchKernelEx");
  load(encode_tiled_, "cuTensorMapEncodeTiled");

  const CUresult initialised = init_(0);
  // The toolkit's stub libcuda (meant for linking only) stands in for a missing driver.
  if (initialised == CUDA_ERROR_NO_DEVICE || initialised == CUDA_ERROR_STUB_LIBRARY) {
    throw NoGpuError(describe(initialised, "cuInit"), initialised);
  }
  check(initialised, "cuInit");
  if (device_count() == 0) throw NoGpuError("the CUDA driver reports no GPU", CUDA_ERROR_NO_DEVICE);
}

void Driver::LibraryCloser::operator()(void* library) const { dlclose(library); }

template <typename Function>
void Driver::load(Function& function, const char* name) {
  void* pointer = nullptr;
  CUdriverProcAddressQueryResult status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  // Legacy-stream entry points: we compile without per-thread default streams,
  // and every launch names an explicit stream anyway.
  const CUresult result =
      get_proc_address_(name, &pointer, CUDA_VERSION, CU_GET_PROC_ADDRESS_LEGACY_STREAM, &status);
  if (result != CUDA_SUCCESS || status != CU_GET_PROC_ADDRESS_SUCCESS || pointer == nullptr) {
    throw CudaError(fmt::format("the CUDA driver has no usable {} (cuGetProcAddress: error {}, "
                                "status {}); update the NVIDIA driver",
                                name, static_cast<int>(result), static_cast<int>(status)),
                    result == CUDA_SUCCESS ? CUDA_ERROR_CALL_REQUIRES_NEWER_DRIVER : result);
  }
  // The driver hands out entry points as void*, like dlsym.
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast)
  function = reinterpret_cast<Function>(pointer);
}

std::string Driver::describe(CUresult result, const char* call) const {
  const char* name = nullptr;
  const char* text = nullptr;
  if (get_error_name_(result, &name) != CUDA_SUCCESS) name = "unknown CUresult";
  if (get_error_string_(result, &text) != CUDA_SUCCESS) text = "no description";
  return fmt::format("{} failed: {} ({}, code {})", call, name, text, static_cast<int>(result));
}

void Driver::check(CUresult result, const char* call) const {
  if (result != CUDA_SUCCESS) throw CudaError(describe(result, call), result);
}

template <typename Release>
void Driver::release_in(CUcontext context, Release release) const noexcept {
  // Failures are dropped: a destructor cannot report them, and the handle is
  // unusable afterwards either way.
  if (ctx_push_current_(context) != CUDA_SUCCESS) return;
  release();
  CUcontext popped = nullptr;
  ctx_pop_current_(&popped);
}

int Driver::device_count() const {
  int count = 0;
  check(device_get_count_(&count), "cuDeviceGetCount");
  return count;
}

int Driver::version() const {
  int version = 0;
  check(driver_get_version_(&version), "cuDriverGetVersion");
  return version;
}

CUdevice Driver::device(int ordinal) const {
  CUdevice device = 0;
  check(device_get_(&device, ordinal), "cuDeviceGet");
  return device;
}

int Driver::attribute(CUdevice device, CUdevice_attribute attribute) const {
  int value = 0;
  check(device_get_attribute_(&value, attribute, device), "cuDeviceGetAttribute");
  return value;
}

std::string Driver::device_name(CUdevice device) const {
  std::array<char, 256> name{};
  check(device_get_name_(name.data(), static_cast<int>(name.size()), device), "cuDeviceGetName");
  return name.data();
}

CUcontext Driver::retain_primary_context(CUdevice device) const {
  CUcontext context = nullptr;
  check(primary_ctx_retain_(&context, device), "cuDevicePrimaryCtxRetain");
  return context;
}

void Driver::release_primary_context(CUdevice device) const noexcept {
  primary_ctx_release_(device);
}

void Driver::set_current(CUcontext context) const {
  check(ctx_set_current_(context), "cuCtxSetCurrent");
}

CUmodule Driver::load_module(const std::vector<char>& image) const {
  CUmodule module = nullptr;
  check(module_load_data_(&module, image.data()), "cuModuleLoadData");
  return module;
}

void Driver::unload_module(CUcontext context, CUmodule module) const noexcept {
  release_in(context, [&] { module_unload_(module); });
}

CUfunction Driver::module_function(CUmodule module, const std::string& name) const {
  CUfunction function = nullptr;
  const CUresult result = module_get_function_(&function, module, name.c_str());
  if (result == CUDA_ERROR_NOT_FOUND) {
    throw CudaError(fmt::format("cuModuleGetFunction: the module has no kernel '{}'", name),
                    result);
  }
  check(result, "cuModuleGetFunction");
  return function;
}

CUdeviceptr Driver::allocate(std::size_t bytes) const {
  CUdeviceptr pointer = 0;
  check(mem_alloc_(&pointer, bytes), "cuMemAlloc");
  return pointer;
}

void Driver::deallocate(CUcontext context, CUdeviceptr pointer) const noexcept {
  release_in(context, [&] { mem_free_(pointer); });
}

CUdeviceptr Driver::allocate_async(std::size_t bytes, CUstream stream) const {
  CUdeviceptr pointer = 0;
  check(mem_alloc_async_(&pointer, bytes, stream), "cuMemAllocAsync");
  return pointer;
}

void Driver::deallocate_async(CUdeviceptr pointer, CUstream stream) const noexcept {
  // Only a destructor frees scratch, and it cannot report a failure.
  static_cast<void>(mem_free_async_(pointer, stream));
}

void Driver::copy_to_device(CUdeviceptr destination, const void* source, std::size_t bytes) const {
  check(memcpy_htod_(destination, source, bytes), "cuMemcpyHtoD");
}

void Driver::copy_to_host(void* destination, CUdeviceptr source, std::size_t bytes) const {
  check(memcpy_dtoh_(destination, source, bytes), "cuMemcpyDtoH");
}

void Driver::memset_d8(CUdeviceptr destination, unsigned char value, std::size_t bytes) const {
  check(memset_d8_(destination, value, bytes), "cuMemsetD8");
  // cuMemsetD8 may return before the device is done, and attnjit's streams do
  // not wait for the legacy stream it runs on: a kernel launched next could
  // race it (poisoned outputs overwriting results). Finish it here.
  check(stream_synchronize_(nullptr), "cuStreamSynchronize(legacy stream)");
}

void Driver::memset_d8_async(CUdeviceptr destination, unsigned char value, std::size_t bytes,
                             CUstream stream) const {
  check(memset_d8_async_(destination, value, bytes, stream), "cuMemsetD8Async");
}

CUstream Driver::create_stream() const {
  CUstream stream = nullptr;
  check(stream_create_(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  return stream;
}

void Driver::destroy_stream(CUcontext context, CUstream stream) const noexcept {
  release_in(context, [&] { stream_destroy_(stream); });
}

void Driver::synchronize(CUstream stream) const {
  check(stream_synchronize_(stream), "cuStreamSynchronize");
}

CUevent Driver::create_event() const {
  CUevent event = nullptr;
  check(event_create_(&event, CU_EVENT_DEFAULT), "cuEventCreate");
  return event;
}

void Driver::destroy_event(CUcontext context, CUevent event) const noexcept {
  release_in(context, [&] { event_destroy_(event); });
}

void Driver::record(CUevent event, CUstream stream) const {
  check(event_record_(event, stream), "cuEventRecord");
}

void Driver::synchronize(CUevent event) const {
  check(event_synchronize_(event), "cuEventSynchronize");
}

float Driver::elapsed_ms(CUevent start, CUevent stop) const {
  float ms = 0;
  check(event_elapsed_time_(&ms, start, stop), "cuEventElapsedTime");
  return ms;
}

void Driver::set_max_dynamic_smem(CUfunction function, int bytes) const {
  check(func_set_attribute_(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
        "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)");
}

int Driver::max_active_blocks(CUfunction function, int threads, std::size_t dynamic_smem) const {
  int blocks = 0;
  check(max_active_blocks_(&blocks, function, threads, dynamic_smem),
        "cuOccupancyMaxActiveBlocksPerMultiprocessor");
  return blocks;
}

CUdevice Driver::current_device() const {
  CUdevice device = 0;
  check(ctx_get_device_(&device), "cuCtxGetDevice");
  return device;
}

void Driver::launch_kernel(CUfunction function, Dim3 grid, Dim3 block, unsigned dynamic_smem,
                           CUstream stream, void** args) const {
  check(launch_kernel_(function, grid.x, grid.y, grid.z, block.x, block.y, block.z, dynamic_smem,
                       stream, args, nullptr),
        "cuLaunchKernel");
}

void Driver::launch_kernel_overlapped(CUfunction function, Dim3 grid, Dim3 block,
                                      unsigned dynamic_smem, CUstream stream, void** args) const {
  CUlaunchAttribute attribute{};
  attribute.id = CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION;
  attribute.value.programmaticStreamSerializationAllowed = 1;
  CUlaunchConfig config{};
  config.gridDimX = grid.x;
  config.gridDimY = grid.y;
  config.gridDimZ = grid.z;
  config.blockDimX = block.x;
  config.blockDimY = block.y;
  config.blockDimZ = block.z;
  config.sharedMemBytes = dynamic_smem;
  config.hStream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  check(launch_kernel_ex_(&config, function, args, nullptr), "cuLaunchKernelEx");
}

CUtensorMap Driver::encode_tiled_map(CUtensorMapDataType type, CUdeviceptr base,
                                     const std::vector<cuuint64_t>& dims,
                                     const std::vector<cuuint64_t>& strides,
                                     const std::vector<cuuint32_t>& box) const {
  CUtensorMap map{};
  const std::vector<cuuint32_t> element_strides(dims.size(), 1);
  check(encode_tiled_(&map, type, static_cast<cuuint32_t>(dims.size()), device_pointer(base),
                      dims.data(), strides.data(), box.data(), element_strides.data(),
                      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE),
        "cuTensorMapEncodeTiled");
  return map;
}

Context::Context(Driver& driver, int ordinal) : driver_(&driver), ordinal_(ordinal) {
  const int count = driver.device_count();
  if (ordinal < 0 || ordinal >= count) {
    throw CudaError(fmt::format("no GPU {}: the driver reports {} device(s)", ordinal, count),
                    CUDA_ERROR_INVALID_DEVICE);
  }
  device_ = driver.device(ordinal);
  major_ = driver.attribute(device_, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
  minor_ = driver.attribute(device_, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  context_ = driver.retain_primary_context(device_);
  try {
    make_current();
  } catch (...) {
    driver.release_primary_context(device_);
    throw;
  }
}

Context::Context(Context&& other) noexcept
    : driver_(other.driver_),
      ordinal_(other.ordinal_),
      device_(other.device_),
      context_(std::exchange(other.context_, nullptr)),
      major_(other.major_),
      minor_(other.minor_) {}

Context& Context::operator=(Context&& other) noexcept {
  if (this != &other) {
    if (context_ != nullptr) driver_->release_primary_context(device_);
    driver_ = other.driver_;
    ordinal_ = other.ordinal_;
    device_ = other.device_;
    context_ = std::exchange(other.context_, nullptr);
    major_ = other.major_;
    minor_ = other.minor_;
  }
  return *this;
}

Context::~Context() {
  if (context_ != nullptr) driver_->release_primary_context(device_);
}

void Context::make_current() const { driver_->set_current(context_); }

std::string Context::name() const { return driver_->device_name(device_); }

int Context::sm_count() const {
  return driver_->attribute(device_, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
}

int Context::max_smem_optin() const {
  return driver_->attribute(device_, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
}

std::string Context::arch() const {
  const bool has_arch_specific = (major_ == 9 || major_ == 10) && minor_ == 0;
  return fmt::format("sm_{}{}{}", major_, minor_, has_arch_specific ? "a" : "");
}

Module::Module(const Context& context, const std::vector<char>& cubin)
    : context_(&context), module_(made_current(context).load_module(cubin)) {}

Module::Module(Module&& other) noexcept
    : context_(other.context_), module_(std::exchange(other.module_, nullptr)) {}

Module& Module::operator=(Module&& other) noexcept {
  if (this != &other) {
    if (module_ != nullptr) context_->driver().unload_module(context_->get(), module_);
    context_ = other.context_;
    module_ = std::exchange(other.module_, nullptr);
  }
  return *this;
}

Module::~Module() {
  if (module_ != nullptr) context_->driver().unload_module(context_->get(), module_);
}

CUfunction Module::function(const std::string& lowered_name) const {
  return context_->driver().module_function(module_, lowered_name);
}

StreamScratch::StreamScratch(const Driver& driver, std::size_t bytes, CUstream stream)
    : driver_(driver), stream_(stream), pointer_(driver.allocate_async(bytes, stream)) {}

StreamScratch::~StreamScratch() { driver_.deallocate_async(pointer_, stream_); }

DeviceBuffer::DeviceBuffer(const Context& context, std::size_t bytes)
    // cuMemAlloc rejects zero bytes; an empty buffer is still a valid buffer.
    : context_(&context),
      pointer_(bytes == 0 ? 0 : made_current(context).allocate(bytes)),
      size_(bytes) {}

DeviceBuffer::DeviceBuffer(DeviceBuffer&& other) noexcept
    : context_(other.context_),
      pointer_(std::exchange(other.pointer_, 0)),
      size_(std::exchange(other.size_, 0)) {}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& other) noexcept {
  if (this != &other) {
    if (pointer_ != 0) context_->driver().deallocate(context_->get(), pointer_);
    context_ = other.context_;
    pointer_ = std::exchange(other.pointer_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() {
  if (pointer_ != 0) context_->driver().deallocate(context_->get(), pointer_);
}

void DeviceBuffer::upload(const void* data, std::size_t bytes) {
  require_fits(bytes, size_, "upload");
  if (bytes == 0) return;
  made_current(*context_).copy_to_device(pointer_, data, bytes);
}

void DeviceBuffer::download(void* data, std::size_t bytes) const {
  require_fits(bytes, size_, "download");
  if (bytes == 0) return;
  made_current(*context_).copy_to_host(data, pointer_, bytes);
}

void DeviceBuffer::fill_bytes(unsigned char value) {
  if (size_ == 0) return;
  made_current(*context_).memset_d8(pointer_, value, size_);
}

void DeviceBuffer::fill_bytes_async(unsigned char value, const Stream& stream) {
  if (size_ == 0) return;
  made_current(*context_).memset_d8_async(pointer_, value, size_, stream.get());
}

Stream::Stream(const Context& context)
    : context_(&context), stream_(made_current(context).create_stream()) {}

Stream::Stream(Stream&& other) noexcept
    : context_(other.context_), stream_(std::exchange(other.stream_, nullptr)) {}

Stream& Stream::operator=(Stream&& other) noexcept {
  if (this != &other) {
    if (stream_ != nullptr) context_->driver().destroy_stream(context_->get(), stream_);
    context_ = other.context_;
    stream_ = std::exchange(other.stream_, nullptr);
  }
  return *this;
}

Stream::~Stream() {
  if (stream_ != nullptr) context_->driver().destroy_stream(context_->get(), stream_);
}

void Stream::synchronize() const { context_->driver().synchronize(stream_); }

Event::Event(const Context& context)
    : context_(&context), event_(made_current(context).create_event()) {}

Event::Event(Event&& other) noexcept
    : context_(other.context_), event_(std::exchange(other.event_, nullptr)) {}

Event& Event::operator=(Event&& other) noexcept {
  if (this != &other) {
    if (event_ != nullptr) context_->driver().destroy_event(context_->get(), event_);
    context_ = other.context_;
    event_ = std::exchange(other.event_, nullptr);
  }
  return *this;
}

Event::~Event() {
  if (event_ != nullptr) context_->driver().destroy_event(context_->get(), event_);
}

void Event::record(const Stream& stream) { context_->driver().record(event_, stream.get()); }

void Event::synchronize() const { context_->driver().synchronize(event_); }

float Event::elapsed_ms(const Event& start) const {
  return context_->driver().elapsed_ms(start.event_, event_);
}

void launch(const Driver& driver, CUfunction function, Dim3 grid, Dim3 block, unsigned dynamic_smem,
            CUstream stream, void** args, LaunchOrder order) {
  if (dynamic_smem > kDefaultDynamicSmemLimit) {
    driver.set_max_dynamic_smem(function, static_cast<int>(dynamic_smem));
  }
  if (order == LaunchOrder::OverlapPrevious) {
    driver.launch_kernel_overlapped(function, grid, block, dynamic_smem, stream, args);
  } else {
    driver.launch_kernel(function, grid, block, dynamic_smem, stream, args);
  }
}

}  // namespace attnjit
