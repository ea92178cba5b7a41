// The CUDA driver API, loaded at run time from libcuda.so.1 so that attnjit
// builds, starts and compiles kernels on machines without a GPU driver, and
// small RAII handles over it. <cuda.h> is used for its types only: nothing
// links against libcuda.
#pragma once

#include <attnjit/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <cuda.h>

namespace attnjit {

// A driver call failed; the message names the call and the driver's error.
class CudaError : public Error {
 public:
  CudaError(const std::string& message, CUresult code) : Error(message), code_(code) {}
  [[nodiscard]] CUresult code() const { return code_; }

 private:
  CUresult code_;
};

// No usable GPU here: no driver library, no device. The CLI exits with status 3.
class NoGpuError : public CudaError {
 public:
  NoGpuError(const std::string& message, CUresult code) : CudaError(message, code) {}
};

// A device address as the pointer a kernel's argument struct holds. The
// driver API hands addresses out as integers; kernels read them as pointers.
inline void* device_pointer(CUdeviceptr address) {
  // NOLINTNEXTLINE(performance-no-int-to-ptr,cppcoreguidelines-pro-type-reinterpret-cast)
  return reinterpret_cast<void*>(address);
}

struct Dim3 {
  unsigned x = 1;
  unsigned y = 1;
  unsigned z = 1;
};

// One loaded and initialised driver. The handles below keep a reference to it,
// so it is neither copied nor moved and must outlive them.
class Driver {
 public:
  // Throws NoGpuError when libcuda.so.1 is missing or there is no device.
  Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;
  Driver(Driver&&) = delete;
  Driver& operator=(Driver&&) = delete;
  ~Driver() = default;

  [[nodiscard]] int device_count() const;
  [[nodiscard]] int version() const;  // e.g. 13000 for CUDA 13.0

  // Thin checked wrappers: each throws CudaError naming the call. The release
  // functions are for destructors, which cannot report a failure; they push the
  // owning context around the call so that the caller's current context stays.
  [[nodiscard]] CUdevice device(int ordinal) const;
  [[nodiscard]] int attribute(CUdevice device, CUdevice_attribute attribute) const;
  [[nodiscard]] std::string device_name(CUdevice device) const;
  [[nodiscard]] CUcontext retain_primary_context(CUdevice device) const;
  void release_primary_context(CUdevice device) const noexcept;
  void set_current(CUcontext context) const;
  [[nodiscard]] CUmodule load_module(const std::vector<char>& image) const;
  void unload_module(CUcontext context, CUmodule module) const noexcept;
  [[nodiscard]] CUfunction module_function(CUmodule module, const std::string& name) const;
  [[nodiscard]] CUdeviceptr allocate(std::size_t bytes) const;
  void deallocate(CUcontext context, CUdeviceptr pointer) const noexcept;
  // Stream-ordered memory of the current context (its default pool).
  [[nodiscard]] CUdeviceptr allocate_async(std::size_t bytes, CUstream stream) const;
  void deallocate_async(CUdeviceptr pointer, CUstream stream) const noexcept;
  void copy_to_device(CUdeviceptr destination, const void* source, std::size_t bytes) const;
  void copy_to_host(void* destination, CUdeviceptr source, std::size_t bytes) const;
  // Returns once the device memory holds the value.
  void memset_d8(CUdeviceptr destination, unsigned char value, std::size_t bytes) const;
  void memset_d8_async(CUdeviceptr destination, unsigned char value, std::size_t bytes,
                       CUstream stream) const;
  [[nodiscard]] CUstream create_stream() const;
  void destroy_stream(CUcontext context, CUstream stream) const noexcept;
  void synchronize(CUstream stream) const;
  [[nodiscard]] CUevent create_event() const;
  void destroy_event(CUcontext context, CUevent event) const noexcept;
  void record(CUevent event, CUstream stream) const;
  void synchronize(CUevent event) const;
  [[nodiscard]] float elapsed_ms(CUevent start, CUevent stop) const;
  void set_max_dynamic_smem(CUfunction function, int bytes) const;
  // CTAs of `function` that fit on one SM at once.
  [[nodiscard]] int max_active_blocks(CUfunction function, int threads,
                                      std::size_t dynamic_smem) const;
  [[nodiscard]] CUdevice current_device() const;  // the current context's
  void launch_kernel(CUfunction function, Dim3 grid, Dim3 block, unsigned dynamic_smem,
                     CUstream stream, void** args) const;
  // The same with programmatic stream serialisation (sm_90 and newer): the
  // kernel may start before the one ahead of it on the stream has ended, and
  // must wait for it (griddepcontrol.wait) before it reads what that one wrote.
  void launch_kernel_overlapped(CUfunction function, Dim3 grid, Dim3 block, unsigned dynamic_smem,
                                CUstream stream, void** args) const;
  // A TMA map of a tensor of 16-bit elements in the 128-byte swizzle, zeros
  // for reads out of bounds. dims and box are innermost first; strides (in
  // bytes) are those of dims 1.., as cuTensorMapEncodeTiled takes them.
  [[nodiscard]] CUtensorMap encode_tiled_map(CUtensorMapDataType type, CUdeviceptr base,
                                             const std::vector<cuuint64_t>& dims,
                                             const std::vector<cuuint64_t>& strides,
                                             const std::vector<cuuint32_t>& box) const;

 private:
  struct LibraryCloser {
    void operator()(void* library) const;
  };

  [[nodiscard]] std::string describe(CUresult result, const char* call) const;
  void check(CUresult result, const char* call) const;
  template <typename Function>
  void load(Function& function, const char* name);
  template <typename Release>
  void release_in(CUcontext context, Release release) const noexcept;

  std::unique_ptr<void, LibraryCloser> library_;
  decltype(&::cuGetProcAddress) get_proc_address_ = nullptr;
  decltype(&::cuGetErrorName) get_error_name_ = nullptr;
  decltype(&::cuGetErrorString) get_error_string_ = nullptr;
  decltype(&::cuInit) init_ = nullptr;
  decltype(&::cuDriverGetVersion) driver_get_version_ = nullptr;
  decltype(&::cuDeviceGetCount) device_get_count_ = nullptr;
  decltype(&::cuDeviceGet) device_get_ = nullptr;
  decltype(&::cuDeviceGetAttribute) device_get_attribute_ = nullptr;
  decltype(&::cuDeviceGetName) device_get_name_ = nullptr;
  decltype(&::cuDevicePrimaryCtxRetain) primary_ctx_retain_ = nullptr;
  decltype(&::cuDevicePrimaryCtxRelease) primary_ctx_release_ = nullptr;
  decltype(&::cuCtxSetCurrent) ctx_set_current_ = nullptr;
  decltype(&::cuCtxPushCurrent) ctx_push_current_ = nullptr;
  decltype(&::cuCtxPopCurrent) ctx_pop_current_ = nullptr;
  decltype(&::cuModuleLoadData) module_load_data_ = nullptr;
  decltype(&::cuModuleUnload) module_unload_ = nullptr;
  decltype(&::cuModuleGetFunction) module_get_function_ = nullptr;
  decltype(&::cuMemAlloc) mem_alloc_ = nullptr;
  decltype(&::cuMemFree) mem_free_ = nullptr;
  decltype(&::cuMemAllocAsync) mem_alloc_async_ = nullptr;
  decltype(&::cuMemFreeAsync) mem_free_async_ = nullptr;
  decltype(&::cuMemcpyHtoD) memcpy_htod_ = nullptr;
  decltype(&::cuMemcpyDtoH) memcpy_dtoh_ = nullptr;
  decltype(&::cuMemsetD8) memset_d8_ = nullptr;
  decltype(&::cuMemsetD8Async) memset_d8_async_ = nullptr;
  decltype(&::cuStreamCreate) stream_create_ = nullptr;
  decltype(&::cuStreamDestroy) stream_destroy_ = nullptr;
  decltype(&::cuStreamSynchronize) stream_synchronize_ = nullptr;
  decltype(&::cuEventCreate) event_create_ = nullptr;
  decltype(&::cuEventDestroy) event_destroy_ = nullptr;
  decltype(&::cuEventRecord) event_record_ = nullptr;
  decltype(&::cuEventSynchronize) event_synchronize_ = nullptr;
  decltype(&::cuEventElapsedTime) event_elapsed_time_ = nullptr;
  decltype(&::cuFuncSetAttribute) func_set_attribute_ = nullptr;
  decltype(&::cuOccupancyMaxActiveBlocksPerMultiprocessor) max_active_blocks_ = nullptr;
  decltype(&::cuCtxGetDevice) ctx_get_device_ = nullptr;
  decltype(&::cuLaunchKernel) launch_kernel_ = nullptr;
  decltype(&::cuLaunchKernelEx) launch_kernel_ex_ = nullptr;
  decltype(&::cuTensorMapEncodeTiled) encode_tiled_ = nullptr;
};

// A device's primary context, retained for the handle's life and made current
// on the constructing thread.
class Context {
 public:
  Context(Driver& driver, int ordinal);
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;
  Context(Context&& other) noexcept;
  Context& operator=(Context&& other) noexcept;
  ~Context();

  void make_current() const;
  [[nodiscard]] Driver& driver() const { return *driver_; }
  [[nodiscard]] CUcontext get() const { return context_; }
  [[nodiscard]] int ordinal() const { return ordinal_; }
  [[nodiscard]] int major() const { return major_; }
  [[nodiscard]] int minor() const { return minor_; }
  [[nodiscard]] std::string name() const;
  [[nodiscard]] int sm_count() const;
  [[nodiscard]] int max_smem_optin() const;  // bytes of shared memory a block may opt in to
  // The architecture to compile for: the "a" variant on 9.0 and 10.0, whose
  // wgmma/tcgen05 instructions exist only there.
  [[nodiscard]] std::string arch() const;

 private:
  Driver* driver_;
  int ordinal_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  int major_ = 0;
  int minor_ = 0;
};

class Module {
 public:
  Module(const Context& context, const std::vector<char>& cubin);
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&& other) noexcept;
  Module& operator=(Module&& other) noexcept;
  ~Module();

  [[nodiscard]] CUfunction function(const std::string& lowered_name) const;

 private:
  const Context* context_;
  CUmodule module_ = nullptr;
};

class Stream;

class DeviceBuffer {
 public:
  DeviceBuffer(const Context& context, std::size_t bytes);
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept;
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept;
  ~DeviceBuffer();

  [[nodiscard]] CUdeviceptr ptr() const { return pointer_; }
  [[nodiscard]] std::size_t size() const { return size_; }
  // Synchronous copies; they throw Error when `bytes` exceeds size().
  void upload(const void* data, std::size_t bytes);
  void download(void* data, std::size_t bytes) const;
  void fill_bytes(unsigned char value);
  // In stream order, without waiting.
  void fill_bytes_async(unsigned char value, const Stream& stream);

 private:
  const Context* context_;
  CUdeviceptr pointer_ = 0;
  std::size_t size_ = 0;
};

// Scratch memory for work on one stream: allocated in stream order and freed
// in stream order after the work enqueued during its life, so that neither
// end waits for the device. The current context must own the stream.
class StreamScratch {
 public:
  StreamScratch(const Driver& driver, std::size_t bytes, CUstream stream);
  StreamScratch(const StreamScratch&) = delete;
  StreamScratch& operator=(const StreamScratch&) = delete;
  StreamScratch(StreamScratch&&) = delete;
  StreamScratch& operator=(StreamScratch&&) = delete;
  ~StreamScratch();

  [[nodiscard]] CUdeviceptr ptr() const { return pointer_; }

 private:
  const Driver& driver_;
  CUstream stream_;
  CUdeviceptr pointer_;
};

// A stream that does not synchronise with the legacy default stream.
class Stream {
 public:
  explicit Stream(const Context& context);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  Stream(Stream&& other) noexcept;
  Stream& operator=(Stream&& other) noexcept;
  ~Stream();

  [[nodiscard]] CUstream get() const { return stream_; }
  void synchronize() const;

 private:
  const Context* context_;
  CUstream stream_ = nullptr;
};

class Event {
 public:
  explicit Event(const Context& context);
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  Event(Event&& other) noexcept;
  Event& operator=(Event&& other) noexcept;
  ~Event();

  [[nodiscard]] CUevent get() const { return event_; }
  void record(const Stream& stream);
  void synchronize() const;
  // Time from `start` to this event; both must have completed.
  [[nodiscard]] float elapsed_ms(const Event& start) const;

 private:
  const Context* context_;
  CUevent event_ = nullptr;
};

// How a launch follows the kernel ahead of it on the stream: after it ends, or
// overlapping it (Driver::launch_kernel_overlapped), for a kernel that waits
// for its predecessor's results itself.
enum class LaunchOrder : std::uint8_t { AfterPrevious, OverlapPrevious };

// Enqueues one launch in the current context, which must be the function's.
// Opts the function in to more than 48 KiB of dynamic shared memory when asked
// for; does no host synchronisation and no allocation, so it can be captured in
// a CUDA graph.
void launch(const Driver& driver, CUfunction function, Dim3 grid, Dim3 block, unsigned dynamic_smem,
            CUstream stream, void** args, LaunchOrder order = LaunchOrder::AfterPrevious);

}  // namespace attnjit
