#include "runtime/cuda_driver.hpp"
#include "runtime/fwd_inputs.hpp"
#include "runtime/kernel_cache.hpp"
#include "runtime/shape_bucket.hpp"
#include "runtime/variant_launch.hpp"
#include <attnjit/engine.hpp>

#include <chrono>
#include <iostream>
#include <optional>
#include <tuple>
#include <utility>

#include <fmt/format.h>

namespace attnjit {
namespace {

struct Gpu {
  explicit Gpu(int ordinal) : context(driver, ordinal) {}
  Driver driver;
  Context context;
};

WarningSink warning_sink(const std::function<void(const std::string&)>& given) {
  if (given) return given;
  return [](const std::string& message) { std::cerr << "attnjit: warning: " << message << "\n"; };
}

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

std::string_view origin_name(KernelOrigin origin) {
  switch (origin) {
    case KernelOrigin::Memory: return "memory";
    case KernelOrigin::Database: return "database";
    case KernelOrigin::Compiled: return "compiled";
  }
  return "?";
}

struct Kernel::Loaded {
  Loaded(std::shared_ptr<const Gpu> gpu_in, std::shared_ptr<const CachedKernel> cached_in,
         Variant variant_in)
      : gpu(std::move(gpu_in)),
        cached(std::move(cached_in)),
        variant(std::move(variant_in)),
        module(gpu->context, cached->compiled.cubin),
        kernels(variant_kernels(gpu->driver, module, cached->generated.kernel,
                                cached->compiled.lowered_name, variant)) {}

  std::shared_ptr<const Gpu> gpu;  // outlives the module, which unloads in its context
  std::shared_ptr<const CachedKernel> cached;
  Variant variant;
  Module module;
  VariantKernels kernels;
};

Kernel::Kernel(std::shared_ptr<const Loaded> loaded, KernelOrigin origin, double acquire_ms)
    : loaded_(std::move(loaded)), origin_(origin), acquire_ms_(acquire_ms) {}

const std::string& Kernel::variant_name() const { return loaded_->variant.name(); }
const std::string& Kernel::family() const { return loaded_->cached->key.family; }
const std::string& Kernel::config() const { return loaded_->cached->key.config; }
KernelOrigin Kernel::origin() const { return origin_; }
double Kernel::acquire_ms() const { return acquire_ms_; }
int Kernel::registers() const { return loaded_->cached->compiled.report.registers; }

int Kernel::spill_bytes() const {
  const CompileReport& report = loaded_->cached->compiled.report;
  return report.spill_store_bytes + report.spill_load_bytes;
}

struct TileClasses::Table {
  Table(std::shared_ptr<const Kernel::Loaded> by_in, const AttentionShape& shape_in,
        std::size_t bytes)
      : by(std::move(by_in)), shape(shape_in), buffer(by->gpu->context, bytes) {}
  std::shared_ptr<const Kernel::Loaded> by;  // the kernel that made it, and its context
  AttentionShape shape;
  DeviceBuffer buffer;
};

TileClasses::TileClasses(std::shared_ptr<const Table> table) : table_(std::move(table)) {}

void Kernel::launch(const FwdInputs& inputs, CUstream_st* stream) const {
  const Loaded& loaded = *loaded_;
  FwdProblem problem = fwd_problem(loaded.variant, inputs, loaded.gpu->context.ordinal());
  if (inputs.tile_classes) {
    const TileClasses::Table& table = *inputs.tile_classes->table_;
    const CachedKernel& maker = *table.by->cached;
    if (maker.key.variant_hash != loaded.cached->key.variant_hash || maker.key.family != family() ||
        maker.key.config != config()) {
      throw InputError(fmt::format(
          "tile classes made by the kernel of variant '{}' at {} {} do not fit this one's, {} {}",
          table.by->variant.name(), maker.key.family, maker.key.config, family(), config()));
    }
    if (table.shape != problem.shape) {
      const auto text = [](const AttentionShape& s) {
        return fmt::format("b={},h={},hkv={},sq={},sk={}", s.batch, s.heads, s.kv_heads, s.q_len,
                           s.kv_len);
      };
      throw InputError(fmt::format("tile classes made for shape {} given to a launch of {}",
                                   text(table.shape), text(problem.shape)));
    }
    problem.tile_classes = table.buffer.ptr();
  }
  // Modules belong to a context; the caller's thread may have none current.
  loaded.gpu->context.make_current();
  launch_variant(loaded.gpu->driver, loaded.kernels, loaded.variant,
                 loaded.cached->generated.kernel, problem, stream);
}

bool Kernel::takes_tile_classes() const {
  const Loaded& loaded = *loaded_;
  return loaded.kernels.functions.class_table && !loaded.cached->generated.kernel.decode &&
         !loaded.kernels.hash && !loaded.kernels.hyper;
}

TileClasses Kernel::classify(const FwdInputs& inputs, CUstream_st* stream) const {
  const Loaded& loaded = *loaded_;
  if (!takes_tile_classes()) {
    throw InputError(fmt::format(
        "variant '{}' on the {} family has no tile classes to make ahead: only a mask that "
        "reads tensors has them, and `sparsity hash`, `approx hyper` and the decode family "
        "classify as they go",
        loaded.variant.name(), family()));
  }
  const FwdProblem problem = fwd_problem(loaded.variant, inputs, loaded.gpu->context.ordinal());
  const codegen::GeneratedKernel& kernel = loaded.cached->generated.kernel;
  const std::int64_t bytes =
      tile_class_layout(loaded.kernels.functions, kernel, problem.shape).bytes();
  loaded.gpu->context.make_current();
  auto table =
      std::make_shared<TileClasses::Table>(loaded_, problem.shape, static_cast<std::size_t>(bytes));
  launch_classify(loaded.gpu->driver, loaded.kernels.functions, loaded.variant, kernel, problem,
                  table->buffer.ptr(), stream);
  return TileClasses(std::move(table));
}

struct Engine::Impl {
  explicit Impl(EngineOptions options_in)
      : options(std::move(options_in)),
        warn(warning_sink(options.on_warning)),
        gpu(std::make_shared<Gpu>(options.device)),
        gpu_name(gpu->context.name()),
        store(options.use_cache ? open_cache(options.cache_dir, warn) : nullptr),
        cache(gpu->context.arch(), store, warn),
        family(named_family(options.family)) {}

  static std::optional<codegen::Family> named_family(const std::string& name) {
    if (name.empty()) return std::nullopt;
    if (auto family = codegen::parse_family(name)) return family;
    throw SpecError(fmt::format("unknown kernel family '{}'", name));
  }
  // The named family, else the best for the variant and, when known, the
  // problems' query rows (the decode family for a few).
  [[nodiscard]] codegen::Family family_for(const Variant& variant,
                                           std::optional<std::int64_t> q_len) const {
    if (family) return *family;
    const codegen::Arch arch = *codegen::parse_arch(cache.arch());
    return q_len ? codegen::preferred_family(variant, arch, *q_len)
                 : codegen::preferred_family(variant, arch);
  }

  std::shared_ptr<const Kernel::Loaded> load(const Variant& variant, codegen::Family chosen,
                                             const std::string& config, KernelOrigin& origin);
  std::string tuned_config(const Variant& variant, const AttentionShape& shape);

  EngineOptions options;
  WarningSink warn;
  std::shared_ptr<Gpu> gpu;
  std::string gpu_name;
  std::shared_ptr<db::KernelStore> store;
  KernelCache cache;
  std::optional<codegen::Family> family;  // empty: each variant's preferred family

  std::mutex mutex;
  // (variant hash, family, requested config: empty for the default) -> loaded kernel
  std::map<std::tuple<std::string, codegen::Family, std::string>,
           std::shared_ptr<const Kernel::Loaded>>
      by_config;
  std::map<std::pair<std::string, db::ShapeBucket>, std::shared_ptr<const Kernel::Loaded>> by_shape;
};

std::shared_ptr<const Kernel::Loaded> Engine::Impl::load(const Variant& variant,
                                                         codegen::Family chosen,
                                                         const std::string& config,
                                                         KernelOrigin& origin) {
  {
    const std::lock_guard lock(mutex);
    if (const auto it = by_config.find({variant.hash(), chosen, config}); it != by_config.end()) {
      origin = KernelOrigin::Memory;
      return it->second;
    }
  }
  std::shared_ptr<const CachedKernel> cached = cache.get(variant, chosen, config);
  std::shared_ptr<const Kernel::Loaded> loaded;
  gpu->context.make_current();
  try {
    loaded = std::make_shared<const Kernel::Loaded>(gpu, cached, variant);
  } catch (const CudaError& error) {
    if (cached->origin != KernelOrigin::Database) throw;
    // It passed its checksum, yet the driver refuses it: never launch it, build afresh.
    warn(fmt::format("the driver refused cached kernel {} {} ({}); rebuilding it", variant.name(),
                     cached->key.config, error.what()));
    cache.discard(cached->key);
    cached = cache.get(variant, chosen, config);
    loaded = std::make_shared<const Kernel::Loaded>(gpu, cached, variant);
  }
  origin = cached->origin;
  const std::lock_guard lock(mutex);
  // Another thread may have loaded it meanwhile; keep the first.
  return by_config.emplace(std::tuple{variant.hash(), chosen, config}, loaded).first->second;
}

std::string Engine::Impl::tuned_config(const Variant& variant, const AttentionShape& shape) {
  if (!store) return {};
  try {
    const db::TuningKey key{variant.hash(),
                            std::string(codegen::family_name(family_for(variant, shape.q_len))),
                            gpu_name, cache.toolchain(), shape_bucket(shape)};
    if (const std::optional<db::TuningRecord> record = store->nearest_tuning(key)) {
      return record->config;
    }
  } catch (const db::DbError& error) {
    warn(fmt::format("cannot read tuning records: {}", error.what()));
  }
  return {};
}

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

const std::string& Engine::arch() const { return impl_->cache.arch(); }
const std::string& Engine::gpu() const { return impl_->gpu_name; }

Kernel Engine::kernel(const Variant& variant, const AttentionShape& shape) {
  const auto start = std::chrono::steady_clock::now();
  const std::pair key{variant.hash(), shape_bucket(shape)};
  {
    const std::lock_guard lock(impl_->mutex);
    if (const auto it = impl_->by_shape.find(key); it != impl_->by_shape.end()) {
      return {it->second, KernelOrigin::Memory, ms_since(start)};
    }
  }
  KernelOrigin origin = KernelOrigin::Memory;
  std::shared_ptr<const Kernel::Loaded> loaded =
      impl_->load(variant, impl_->family_for(variant, shape.q_len),
                  impl_->tuned_config(variant, shape), origin);
  {
    const std::lock_guard lock(impl_->mutex);
    impl_->by_shape.emplace(key, loaded);
  }
  return {std::move(loaded), origin, ms_since(start)};
}

Kernel Engine::kernel(const Variant& variant, const std::string& config) {
  const auto start = std::chrono::steady_clock::now();
  KernelOrigin origin = KernelOrigin::Memory;
  std::shared_ptr<const Kernel::Loaded> loaded =
      impl_->load(variant, impl_->family_for(variant, std::nullopt), config, origin);
  return {std::move(loaded), origin, ms_since(start)};
}

Kernel Engine::kernel(const Variant& variant, const AttentionShape& shape,
                      const std::string& config) {
  const auto start = std::chrono::steady_clock::now();
  KernelOrigin origin = KernelOrigin::Memory;
  std::shared_ptr<const Kernel::Loaded> loaded =
      impl_->load(variant, impl_->family_for(variant, shape.q_len), config, origin);
  return {std::move(loaded), origin, ms_since(start)};
}

void Engine::forward(const Variant& variant, const FwdInputs& inputs, CUstream_st* stream) {
  kernel(variant, shape_of(inputs)).launch(inputs, stream);
}

void Engine::block_mask(const Variant& variant, const MaskInputs& inputs, BlockSparsity blocks,
                        const TensorView& block_mask, CUstream_st* stream) {
  if (variant.hash_sparsity()) {
    throw InputError(fmt::format(
        "variant '{}': a block mask is built from a mask without hash sparsity", variant.name()));
  }
  const int device = impl_->gpu->context.ordinal();
  const MaskProblem problem = mask_problem(variant, inputs, device);
  const DeviceTensor out = block_mask_tensor(block_mask, device);
  // The prefill families' modules hold the kernel, the decode family's do not.
  codegen::Family family = impl_->family_for(variant, std::nullopt);
  if (family == codegen::Family::Decode) {
    family = codegen::preferred_family(variant, *codegen::parse_arch(impl_->cache.arch()));
  }
  KernelOrigin origin = KernelOrigin::Memory;
  const std::shared_ptr<const Kernel::Loaded> loaded = impl_->load(variant, family, "", origin);
  impl_->gpu->context.make_current();
  launch_block_mask(impl_->gpu->driver, loaded->kernels.functions, variant, problem, blocks, out,
                    stream);
}

}  // namespace attnjit
