// The public API end to end: a variant from text, an engine with its cache, a
// forward pass on device memory the caller owns (CUDA runtime API), captured
// in a CUDA graph, and the result checked against the CPU reference.
//
//   engine_demo [--cache-dir DIR]
//
// Exit status: 0 the output matches, 1 it does not, 3 no GPU.
#include <attnjit/engine.hpp>
#include <attnjit/error.hpp>
#include <attnjit/language.hpp>
#include <attnjit/reference.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <cuda_runtime.h>

namespace {

constexpr const char* kVariant = R"(
variant local_causal {
  dtype bf16; head_dim 64;
  param window: i32 = 256;
  mask k <= q && q - k < window;
}
)";

std::uint16_t to_bf16(float x) {
  std::uint32_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  bits += 0x7fffU + ((bits >> 16) & 1U);  // round to nearest even
  return static_cast<std::uint16_t>(bits >> 16);
}

float from_bf16(std::uint16_t h) {
  const std::uint32_t bits = static_cast<std::uint32_t>(h) << 16;
  float x = 0;
  std::memcpy(&x, &bits, sizeof x);
  return x;
}

void check(cudaError_t status, const char* what) {
  if (status != cudaSuccess) {
    throw attnjit::Error(std::string(what) + ": " + cudaGetErrorString(status));
  }
}

// Device memory owned by the caller, as it would be in an inference engine.
class DeviceArray {
 public:
  explicit DeviceArray(const std::vector<std::uint16_t>& host) : bytes_(host.size() * 2) {
    check(cudaMalloc(&data_, bytes_), "cudaMalloc");
    check(cudaMemcpy(data_, host.data(), bytes_, cudaMemcpyHostToDevice), "cudaMemcpy");
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  DeviceArray(DeviceArray&&) = delete;
  DeviceArray& operator=(DeviceArray&&) = delete;
  ~DeviceArray() { cudaFree(data_); }
  [[nodiscard]] void* get() const { return data_; }
  [[nodiscard]] std::vector<std::uint16_t> download() const {
    std::vector<std::uint16_t> host(bytes_ / 2);
    check(cudaMemcpy(host.data(), data_, bytes_, cudaMemcpyDeviceToHost), "cudaMemcpy");
    return host;
  }

 private:
  void* data_ = nullptr;
  std::size_t bytes_;
};

int run(const std::string& cache_dir) {
  const attnjit::ParseResult parsed = attnjit::parse_variants(kVariant, "demo.attn");
  const attnjit::Variant& variant = parsed.variants.at(0);

  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    std::cerr << "engine_demo: no GPU\n";
    return 3;
  }
  attnjit::EngineOptions options;
  options.cache_dir = cache_dir;
  attnjit::Engine engine(options);

  const attnjit::AttentionShape shape{2, 8, 2, 1000, 1000};  // GQA 4:1, a length off the tiles
  const std::int64_t d = variant.head_dim();
  const auto elements = [&](std::int64_t heads) {
    return static_cast<std::size_t>(shape.batch * heads * shape.q_len * d);
  };
  std::mt19937 random(7);
  std::normal_distribution<float> normal;
  std::vector<double> q(elements(shape.heads));
  std::vector<double> k(elements(shape.kv_heads));
  std::vector<double> v(elements(shape.kv_heads));
  std::vector<std::uint16_t> q16(q.size());
  std::vector<std::uint16_t> k16(k.size());
  std::vector<std::uint16_t> v16(v.size());
  for (auto [x, x16] : {std::pair{&q, &q16}, std::pair{&k, &k16}, std::pair{&v, &v16}}) {
    for (std::size_t i = 0; i < x->size(); ++i) {
      (*x16)[i] = to_bf16(normal(random));
      (*x)[i] = from_bf16((*x16)[i]);
    }
  }
  const DeviceArray dq(q16);
  const DeviceArray dk(k16);
  const DeviceArray dv(v16);
  const DeviceArray dout(std::vector<std::uint16_t>(q.size(), 0xffff));  // NaN until written

  using attnjit::ElemType;
  attnjit::FwdInputs inputs;
  inputs.q = attnjit::contiguous_view(dq.get(), ElemType::BF16,
                                      {shape.batch, shape.heads, shape.q_len, d});
  inputs.k = attnjit::contiguous_view(dk.get(), ElemType::BF16,
                                      {shape.batch, shape.kv_heads, shape.kv_len, d});
  inputs.v = attnjit::contiguous_view(dv.get(), ElemType::BF16,
                                      {shape.batch, shape.kv_heads, shape.kv_len, d});
  inputs.o = attnjit::contiguous_view(dout.get(), ElemType::BF16,
                                      {shape.batch, shape.heads, shape.q_len, d});
  inputs.params = {{"window", std::int32_t{128}}};

  const attnjit::Kernel kernel = engine.kernel(variant, shape);
  std::cout << "engine_demo: " << engine.gpu() << " (" << engine.arch() << "), kernel "
            << kernel.config() << " from " << attnjit::origin_name(kernel.origin()) << " in "
            << kernel.acquire_ms() << " ms\n";
  // A launch only enqueues (no allocation, no synchronisation), so it can be
  // captured in a CUDA graph and replayed, as inference engines do.
  cudaStream_t raw_stream = nullptr;
  check(cudaStreamCreate(&raw_stream), "cudaStreamCreate");
  const std::unique_ptr<CUstream_st, decltype(&cudaStreamDestroy)> stream(raw_stream,
                                                                          cudaStreamDestroy);
  check(cudaStreamBeginCapture(stream.get(), cudaStreamCaptureModeGlobal),
        "cudaStreamBeginCapture");
  kernel.launch(inputs, stream.get());
  cudaGraph_t raw_graph = nullptr;
  check(cudaStreamEndCapture(stream.get(), &raw_graph), "cudaStreamEndCapture");
  const std::unique_ptr<CUgraph_st, decltype(&cudaGraphDestroy)> graph(raw_graph, cudaGraphDestroy);
  cudaGraphExec_t raw_exec = nullptr;
  check(cudaGraphInstantiate(&raw_exec, graph.get(), 0), "cudaGraphInstantiate");
  const std::unique_ptr<CUgraphExec_st, decltype(&cudaGraphExecDestroy)> exec(raw_exec,
                                                                              cudaGraphExecDestroy);
  check(cudaGraphLaunch(exec.get(), stream.get()), "cudaGraphLaunch");
  check(cudaStreamSynchronize(stream.get()), "cudaStreamSynchronize");
  std::cout << "engine_demo: the forward pass ran as a captured CUDA graph\n";

  const attnjit::ReferenceOutput want = attnjit::reference_attention(
      variant, {shape, q, k, v, {{"window", std::int32_t{128}}}, {}, {}});
  const std::vector<std::uint16_t> got = dout.download();
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double error = std::abs(from_bf16(got[i]) - want.out[i]);
    worst = std::isnan(error) ? INFINITY : std::max(worst, error);
  }
  const bool ok = worst <= 1.6e-2;
  std::cout << "engine_demo: max |O - reference| = " << worst << (ok ? " (ok)\n" : " (FAILED)\n");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc == 3 && std::string(argv[1]) == "--cache-dir" ? argv[2] : "");
  } catch (const std::exception& error) {
    std::cerr << "engine_demo: " << error.what() << "\n";
    return 3;
  }
}
