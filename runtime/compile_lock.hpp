// A lock between processes on one kernel: the first process to miss it in the
// cache compiles it, the others wait and then find it stored, so eight ranks
// starting together compile each kernel once.
#pragma once

#include <filesystem>
#include <optional>

namespace attnjit {

// Where a cache directory keeps its lock files (one per kernel key).
std::filesystem::path compile_lock_dir(const std::filesystem::path& cache_dir);

class CompileLock {
 public:
  // Blocks until no other process holds the lock at `path` (created with its
  // directory when missing). Empty when the file cannot be made or locked:
  // the caller then compiles unguarded, which costs time, not correctness.
  static std::optional<CompileLock> acquire(const std::filesystem::path& path);

  CompileLock(const CompileLock&) = delete;
  CompileLock& operator=(const CompileLock&) = delete;
  CompileLock(CompileLock&& other) noexcept;
  CompileLock& operator=(CompileLock&& other) noexcept;
  ~CompileLock();  // releases it; so does the kernel when a holder dies

 private:
  explicit CompileLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace attnjit
