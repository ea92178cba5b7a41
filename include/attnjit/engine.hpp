// The runtime API: attention kernels for any variant, compiled on demand,
// kept in an SQLite cache shared by every process, launched on a stream.
//
//   attnjit::Engine engine;                       // GPU 0, the default cache
//   engine.forward(variant, {q, k, v, o}, stream);
//
// An engine is thread-safe. Getting a kernel looks in this process's memory,
// then the cache database, then compiles with NVRTC (and stores the result);
// concurrent requests for one kernel compile it once. A launch checks shapes
// and dtypes, then enqueues: no allocation, no host synchronisation, so it can
// be captured in a CUDA graph.
#pragma once

#include <attnjit/error.hpp>
#include <attnjit/reference.hpp>
#include <attnjit/tensor_view.hpp>
#include <attnjit/variant.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct CUstream_st;  // CUstream / cudaStream_t

namespace attnjit {

class Kernel;

// The tile classes (empty, full, partial) of a mask that reads tensors
// (document ids, say), made by Kernel::classify. A launch given them skips
// its own classifier kernel: make them once and pass them to every layer that
// shares the mask, as a model's layers share its document ids. They hold what
// the tensors held when they were made, for that kernel's variant, config and
// shape; make them anew when any of those changes. A cheap handle to device
// memory, which lives until the last copy goes.
class TileClasses {
 public:
  struct Table;

 private:
  friend class Kernel;
  explicit TileClasses(std::shared_ptr<const Table> table);
  std::shared_ptr<const Table> table_;
};

// The tensors and scalars of one forward pass. q [batch, heads, q_len,
// head_dim], k [batch, kv_heads, kv_len, head_dim], v [batch, kv_heads,
// kv_len, head_dim_v], o [batch, heads, q_len, head_dim_v]: any strides with a
// contiguous last dimension (a [batch, seq, heads, dim] tensor is passed as
// its transposed view). lse, when given, is float [batch, heads, q_len]
// contiguous and receives the natural-log sum of exponentials of each row.
struct FwdInputs {
  TensorView q;
  TensorView k;
  TensorView v;
  TensorView o;
  std::optional<TensorView> lse;
  std::map<std::string, ParamValue, std::less<>> params;   // a declared default fills a gap
  std::map<std::string, TensorView, std::less<>> tensors;  // every declared tensor
  // A paged variant (`kv paged(N);`) takes k [pages, kv_heads, N, head_dim],
  // v [pages, kv_heads, N, head_dim_v] and this int32 [batch, max_pages]
  // table of page ids: key k of batch entry b is row k % N of page
  // page_table[b][k / N]; its kv_len is max_pages * N.
  std::optional<TensorView> page_table;
  // int32 [batch]: the keys of each batch entry (a ragged batch), each at
  // most kv_len; absent, every entry has kv_len. The decode family reads it
  // (problems of up to 16 query rows, and every paged variant).
  std::optional<TensorView> kv_lens;
  // An fp8 variant's dequantisation factors, positive floats: per head,
  // Q's [batch, heads], K's and V's [batch, kv_heads] (FlashAttention-3's);
  // or per block, Q's [batch, heads, q_len] (a factor per query row), K's
  // [batch, kv_heads, ceil(kv_len / 64)] (per 64 keys) and V's [batch,
  // kv_heads, head_dim_v] (per channel). Any strides (0 to share one
  // factor); row q of head (b, h) of the real Q is q_descale[b][h][q] *
  // q[b][h][q]. Absent: 1. Variants of other dtypes take none.
  std::optional<TensorView> q_descale;
  std::optional<TensorView> k_descale;
  std::optional<TensorView> v_descale;
  // Made beforehand by the launching kernel's classify (the kernel then runs
  // alone); absent, the launch classifies the mask's tiles itself.
  std::optional<TileClasses> tile_classes;
};

// What a block mask is built from (Engine::block_mask): the attention shape,
// and the params and tensors of the variant whose mask it follows.
struct MaskInputs {
  AttentionShape shape;
  std::map<std::string, ParamValue, std::less<>> params;   // a declared default fills a gap
  std::map<std::string, TensorView, std::less<>> tensors;  // every declared tensor
};

struct EngineOptions {
  int device = 0;
  // Where the cache database lives; empty: $ATTNJIT_CACHE_DIR, else
  // $XDG_CACHE_HOME/attnjit, else ~/.cache/attnjit.
  std::filesystem::path cache_dir;
  bool use_cache = true;  // false: kernels live in this process's memory only
  // The kernel family, e.g. "fa2_sm80" or "fa3_sm90"; empty: the best one the
  // GPU and each variant allow (the Hopper family on an H100 where it applies).
  std::string family;
  // Where warnings go (a damaged cached kernel, a cache that cannot be
  // opened or written); empty: standard error.
  std::function<void(const std::string&)> on_warning;
};

enum class KernelOrigin : std::uint8_t {
  Memory,    // this engine had it already
  Database,  // loaded from the cache database, no compilation
  Compiled,  // compiled by NVRTC now (and stored)
};

std::string_view origin_name(KernelOrigin origin);  // "memory", "database", "compiled"

class Engine;

// A loaded kernel for one variant and config. A cheap handle; it keeps what it
// needs alive, even past its engine.
class Kernel {
 public:
  [[nodiscard]] const std::string& variant_name() const;
  [[nodiscard]] const std::string& family() const;
  [[nodiscard]] const std::string& config() const;  // "bm=128,bn=64,warps=4"
  [[nodiscard]] KernelOrigin origin() const;
  // Wall time the engine took to hand it out: lookup, compile, module load.
  [[nodiscard]] double acquire_ms() const;
  [[nodiscard]] int registers() const;
  [[nodiscard]] int spill_bytes() const;

  // Checks `inputs` against the variant (shapes, dtypes, params, tensors;
  // InputError naming the first problem) and enqueues the kernel on `stream`.
  void launch(const FwdInputs& inputs, CUstream_st* stream) const;

  // Whether classify makes tile classes: for a mask that reads tensors, on a
  // prefill family, outside `sparsity hash` and `approx hyper` (which, like
  // a mask of indices alone, the kernels classify as they go).
  [[nodiscard]] bool takes_tile_classes() const;
  // The tile classes of `inputs`' mask for this kernel, enqueued on `stream`
  // (a launch on another stream must wait for it); it reads the shapes, the
  // params and the mask's tensors. Throws InputError unless
  // takes_tile_classes().
  [[nodiscard]] TileClasses classify(const FwdInputs& inputs, CUstream_st* stream) const;

  struct Loaded;

 private:
  friend class Engine;
  Kernel(std::shared_ptr<const Loaded> loaded, KernelOrigin origin, double acquire_ms);
  std::shared_ptr<const Loaded> loaded_;
  KernelOrigin origin_;
  double acquire_ms_;
};

class Engine {
 public:
  // Opens the device's primary context (the one the CUDA runtime uses) and the
  // cache. Throws Error when there is no usable GPU. A cache that cannot be
  // opened is a warning: the engine then keeps kernels in memory.
  explicit Engine(EngineOptions options = {});
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  Engine(Engine&& other) noexcept;
  Engine& operator=(Engine&& other) noexcept;
  ~Engine();

  [[nodiscard]] const std::string& arch() const;  // "sm_90a"
  [[nodiscard]] const std::string& gpu() const;   // the device's name

  // The kernel for `variant` on problems of `shape`: the tuned config of the
  // nearest stored shape when the tuner left one, else the family's default
  // (the fastest candidate that does not spill). Compiles when needed.
  // Throws SpecError for a variant no kernel family can run, Error when NVRTC fails.
  [[nodiscard]] Kernel kernel(const Variant& variant, const AttentionShape& shape);
  // The kernel at an explicit config, e.g. "bm=64,bn=64,warps=4", of the
  // family for prefill-sized problems.
  [[nodiscard]] Kernel kernel(const Variant& variant, const std::string& config);
  // The kernel at an explicit config of the family for problems of `shape`
  // (the decode family for a few query rows).
  [[nodiscard]] Kernel kernel(const Variant& variant, const AttentionShape& shape,
                              const std::string& config);

  // kernel(variant, shape of inputs).launch(inputs, stream).
  void forward(const Variant& variant, const FwdInputs& inputs, CUstream_st* stream);

  // The block mask of a `sparsity block(block_m, block_n)` variant, built on
  // the GPU from `variant`'s mask, which must read tensors (document ids, say):
  // block (b, h, i, j) of `block_mask` (bool [batch, heads, ceil(q_len /
  // block_m), ceil(kv_len / block_n)], contiguous) is true exactly when the
  // mask holds for some query row of block i and key of block j. Enqueued on
  // `stream`; the kernel lives in the module of `variant`'s prefill kernel.
  void block_mask(const Variant& variant, const MaskInputs& inputs, BlockSparsity blocks,
                  const TensorView& block_mask, CUstream_st* stream);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The attention shape `inputs` describe (from q and k); throws InputError when
// they are not 4-dimensional.
AttentionShape shape_of(const FwdInputs& inputs);

}  // namespace attnjit
