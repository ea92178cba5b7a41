#include "runtime/kernel_cache.hpp"

#include "db/cache_location.hpp"
#include "runtime/compile_lock.hpp"
#include "runtime/kernel_job.hpp"
#include "runtime/toolchain.hpp"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>

#include <fmt/format.h>

namespace attnjit {
namespace {

codegen::Arch checked_arch(const std::string& arch) {
  const std::optional<codegen::Arch> parsed = codegen::parse_arch(arch);
  if (!parsed) throw InputError(fmt::format("'{}' is not a CUDA architecture (sm_XY)", arch));
  return *parsed;
}

int spill_bytes(const CompileReport& report) {
  return report.spill_store_bytes + report.spill_load_bytes;
}

// Why a stored kernel must not be launched, or empty when it may.
std::string stored_kernel_problem(const db::StoredKernel& stored, const db::KernelKey& key,
                                  const codegen::GeneratedKernel& generated,
                                  const std::string& hash) {
  const db::KernelRecord& record = stored.record;
  if (db::checksum_hex(record.cubin.data(), record.cubin.size()) != stored.cubin_sha256) {
    return "its cubin does not match its checksum";
  }
  if (record.key != key) return "it was stored under another key";
  if (!cubin_matches_arch(record.cubin, key.arch)) {
    return fmt::format("its cubin is not an {} image", key.arch);
  }
  if (record.source_hash != hash || record.launch.entry.empty() ||
      record.launch.threads != generated.threads ||
      record.launch.dynamic_smem != generated.smem_bytes ||
      record.launch.block_m != generated.block_m) {
    return "it was built from other source than this attnjit generates";
  }
  return {};
}

// One lock file per kernel key, named by a hash of the key.
std::string lock_name(const db::KernelKey& key) {
  const std::string text = fmt::format("{}\n{}\n{}\n{}\n{}", key.variant_hash, key.family,
                                       key.config, key.arch, key.toolchain);
  return db::checksum_hex(text.data(), text.size()).substr(0, 32) + ".lock";
}

}  // namespace

std::shared_ptr<db::KernelStore> open_cache(const std::filesystem::path& dir,
                                            const WarningSink& warn) {
  try {
    const std::filesystem::path place =
        db::cache_dir(dir.empty() ? std::nullopt : std::optional(dir));
    std::error_code error;
    std::filesystem::create_directories(place, error);
    if (error) {
      throw Error(
          fmt::format("cannot create the cache directory {}: {}", place.string(), error.message()));
    }
    return std::make_shared<db::KernelStore>(db::database_file(place));
  } catch (const Error& error) {
    warn(fmt::format("kernels are kept in memory only: {}", error.what()));
    return nullptr;
  }
}

KernelCache::KernelCache(const std::string& arch, std::shared_ptr<db::KernelStore> store,
                         WarningSink warn)
    : arch_(checked_arch(arch).name()),
      toolchain_(toolchain_id()),
      store_(std::move(store)),
      warn_(std::move(warn)) {}

std::shared_ptr<const CachedKernel> KernelCache::get(const Variant& variant, codegen::Family family,
                                                     std::string_view config) {
  std::vector<codegen::Generated> candidates =
      codegen::generate_candidates(variant, family, config, checked_arch(arch_));
  if (candidates.empty()) {
    throw SpecError(fmt::format("family {} has no config for variant '{}' on {}",
                                codegen::family_name(family), variant.name(), arch_));
  }
  double earlier_ms = 0;  // spent on candidates that spilled: part of this request's cost
  for (std::size_t i = 0;; ++i) {
    auto kernel = obtain(variant, std::move(candidates[i]), family);
    if (spill_bytes(kernel->compiled.report) == 0 || i + 1 == candidates.size()) {
      if (earlier_ms <= 0) return kernel;
      auto total = std::make_shared<CachedKernel>(*kernel);
      total->compile_ms += earlier_ms;
      return total;
    }
    earlier_ms += kernel->compile_ms;
  }
}

std::vector<KernelCache::Outcome> KernelCache::get_all(const std::vector<const Variant*>& variants,
                                                       const std::vector<codegen::Family>& families,
                                                       std::string_view config) {
  std::vector<Outcome> out(variants.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < variants.size(); i = next++) {
      try {
        out[i].kernel = get(*variants[i], families.at(i), config);
      } catch (const std::exception& error) {
        out[i].error = error.what();
      }
    }
  };
  const auto threads = static_cast<unsigned>(
      std::min<std::size_t>(std::max(1U, std::thread::hardware_concurrency()), variants.size()));
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  return out;
}

std::shared_ptr<const CachedKernel> KernelCache::obtain(const Variant& variant,
                                                        codegen::Generated candidate,
                                                        codegen::Family family) {
  db::KernelKey key{variant.hash(), std::string(codegen::family_name(family)), candidate.config,
                    arch_, toolchain_};
  std::unique_lock lock(mutex_);
  if (const auto it = kernels_.find(key); it != kernels_.end()) {
    const Future pending = it->second;
    lock.unlock();  // the owner may still be compiling; its error reaches every waiter
    auto hit = std::make_shared<CachedKernel>(*pending.get());
    hit->origin = KernelOrigin::Memory;
    hit->compile_ms = 0;
    return hit;
  }
  std::promise<std::shared_ptr<const CachedKernel>> promise;
  kernels_.emplace(key, promise.get_future().share());
  lock.unlock();
  try {
    auto kernel = load_or_compile(variant, std::move(candidate), key);
    promise.set_value(kernel);
    return kernel;
  } catch (...) {
    lock.lock();
    kernels_.erase(key);  // a later request tries again
    lock.unlock();
    promise.set_exception(std::current_exception());
    throw;
  }
}

std::shared_ptr<const CachedKernel> KernelCache::load_or_compile(const Variant& variant,
                                                                 codegen::Generated candidate,
                                                                 db::KernelKey key) {
  const KernelSource job = kernel_job(candidate.kernel);
  const std::string hash = source_hash(job);
  if (auto loaded = load(candidate, key, hash)) return *loaded;
  // Another process may be compiling this very kernel: wait for it, then look again.
  std::optional<CompileLock> guard;
  if (store_ && store_->file() != ":memory:") {
    guard = CompileLock::acquire(compile_lock_dir(store_->file().parent_path()) / lock_name(key));
    if (guard) {
      if (auto loaded = load(candidate, key, hash)) return *loaded;
    }
  }
  CompiledKernel compiled = compile_kernel(job, CompileOptions{arch_, {}});
  const double compile_ms = compiled.report.compile_ms;
  auto kernel = std::make_shared<CachedKernel>(CachedKernel{std::move(candidate),
                                                            std::move(compiled), std::move(key),
                                                            KernelOrigin::Compiled, compile_ms});
  store(variant, *kernel, hash);
  return kernel;
}

std::optional<std::shared_ptr<const CachedKernel>> KernelCache::load(
    const codegen::Generated& candidate, const db::KernelKey& key, const std::string& hash) {
  if (!store_) return std::nullopt;
  std::optional<db::StoredKernel> stored;
  try {
    stored = store_->find(key);
  } catch (const db::DbError& error) {
    warn_(fmt::format("cannot read the kernel cache, compiling instead: {}", error.what()));
    return std::nullopt;
  }
  if (!stored) return std::nullopt;
  const std::string problem = stored_kernel_problem(*stored, key, candidate.kernel, hash);
  try {
    if (!problem.empty()) {
      warn_(fmt::format("dropping cached kernel {} (variant {} {}, {} on {}): {}; rebuilding it",
                        stored->id, stored->record.variant_name, key.variant_hash, key.config,
                        key.arch, problem));
      store_->remove(stored->id);
      return std::nullopt;
    }
    store_->touch(stored->id);
  } catch (const db::DbError& error) {
    warn_(fmt::format("cannot update the kernel cache: {}", error.what()));
  }
  if (!problem.empty()) return std::nullopt;

  db::KernelRecord& record = stored->record;
  CompiledKernel compiled;
  compiled.cubin = std::move(record.cubin);
  compiled.lowered_name = std::move(record.launch.entry);
  compiled.report.registers = record.usage.registers;
  compiled.report.static_smem_bytes = record.usage.static_smem;
  compiled.report.spill_store_bytes = record.usage.spill_bytes;  // stores and loads together
  compiled.report.stack_bytes = record.usage.stack_bytes;
  compiled.report.compile_ms = record.usage.compile_ms;
  return std::make_shared<CachedKernel>(
      CachedKernel{candidate, std::move(compiled), key, KernelOrigin::Database, 0});
}

void KernelCache::store(const Variant& variant, const CachedKernel& kernel,
                        const std::string& hash) {
  if (!store_) return;
  const CompileReport& report = kernel.compiled.report;
  const codegen::GeneratedKernel& generated = kernel.generated.kernel;
  db::KernelRecord record{
      kernel.key,
      variant.name(),
      variant.canonical(),
      generated.source,
      hash,
      {kernel.compiled.lowered_name, generated.threads, generated.smem_bytes, generated.block_m},
      {report.registers, report.static_smem_bytes, spill_bytes(report), report.stack_bytes,
       report.compile_ms},
      kernel.compiled.cubin};
  try {
    store_->put(record);
  } catch (const db::DbError& error) {
    warn_(fmt::format("cannot store kernel {} {} in the cache: {}", variant.name(),
                      kernel.key.config, error.what()));
  }
}

void KernelCache::discard(const db::KernelKey& key) {
  {
    const std::lock_guard lock(mutex_);
    kernels_.erase(key);
  }
  if (!store_) return;
  try {
    if (const auto stored = store_->find(key)) store_->remove(stored->id);
  } catch (const db::DbError& error) {
    warn_(fmt::format("cannot remove a kernel from the cache: {}", error.what()));
  }
}

}  // namespace attnjit
