// Kernels for a variant, from the fastest place that has them: this process's
// memory, then the database, then NVRTC (whose result is stored). No GPU is
// needed: what comes back is a checked cubin with everything a launch needs.
#pragma once

#include "codegen/family.hpp"
#include "db/kernel_store.hpp"
#include "runtime/nvrtc_compiler.hpp"
#include <attnjit/engine.hpp>
#include <attnjit/variant.hpp>

#include <filesystem>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace attnjit {

using WarningSink = std::function<void(const std::string&)>;

struct CachedKernel {
  codegen::Generated generated;  // the source and launch shape
  CompiledKernel compiled;       // cubin, symbol and ptxas's report
  db::KernelKey key;
  KernelOrigin origin = KernelOrigin::Compiled;
  double compile_ms = 0;  // NVRTC time of every candidate compiled to get here
};

// The cache database in `dir` (empty: the default place, DESIGN.md), created
// when missing; null, with a warning saying why, when it cannot be opened or
// created, so that the caller goes on with kernels in memory.
std::shared_ptr<db::KernelStore> open_cache(const std::filesystem::path& dir,
                                            const WarningSink& warn);

class KernelCache {
 public:
  // `store` may be null: kernels then live in memory only. Warnings (a damaged
  // or stale stored kernel, a store that cannot be written) go to `warn`.
  KernelCache(const std::string& arch, std::shared_ptr<db::KernelStore> store, WarningSink warn);

  [[nodiscard]] const std::string& arch() const { return arch_; }
  [[nodiscard]] const std::string& toolchain() const { return toolchain_; }

  // The kernel of `variant` in `family` at `config`; an empty config means the
  // family's default candidates, fastest first, keeping the first that does
  // not spill. Thread-safe: concurrent requests for one kernel compile it
  // once. Throws SpecError for a config the variant cannot use and
  // CompileError when NVRTC rejects the source.
  std::shared_ptr<const CachedKernel> get(const Variant& variant, codegen::Family family,
                                          std::string_view config);

  struct Outcome {
    std::shared_ptr<const CachedKernel> kernel;
    std::string error;  // the failure's message when kernel is null
  };
  // get() for every variant (in families[i]), on every core: NVRTC runs in
  // parallel where kernels are missing. A variant that fails holds its message.
  std::vector<Outcome> get_all(const std::vector<const Variant*>& variants,
                               const std::vector<codegen::Family>& families,
                               std::string_view config);

  // Forgets a kernel (memory and database), e.g. one the driver refused to
  // load; the next request rebuilds it.
  void discard(const db::KernelKey& key);

 private:
  using Future = std::shared_future<std::shared_ptr<const CachedKernel>>;

  std::shared_ptr<const CachedKernel> obtain(const Variant& variant, codegen::Generated candidate,
                                             codegen::Family family);
  std::shared_ptr<const CachedKernel> load_or_compile(const Variant& variant,
                                                      codegen::Generated candidate,
                                                      db::KernelKey key);
  std::optional<std::shared_ptr<const CachedKernel>> load(const codegen::Generated& candidate,
                                                          const db::KernelKey& key,
                                                          const std::string& hash);
  void store(const Variant& variant, const CachedKernel& kernel, const std::string& hash);

  std::string arch_;
  std::string toolchain_;
  std::shared_ptr<db::KernelStore> store_;
  WarningSink warn_;
  std::mutex mutex_;
  std::map<db::KernelKey, Future> kernels_;
};

}  // namespace attnjit
