#include "runtime/compile_lock.hpp"

#include <cerrno>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace attnjit {

std::filesystem::path compile_lock_dir(const std::filesystem::path& cache_dir) {
  return cache_dir / "locks";
}

std::optional<CompileLock> CompileLock::acquire(const std::filesystem::path& path) {
  std::error_code error;
  std::filesystem::create_directories(path.parent_path(), error);
  if (error) return std::nullopt;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): POSIX open is variadic for its mode
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return std::nullopt;
  int locked = -1;
  while ((locked = ::flock(fd, LOCK_EX)) != 0 && errno == EINTR) {
  }
  if (locked != 0) {
    ::close(fd);
    return std::nullopt;
  }
  return CompileLock(fd);
}

CompileLock::CompileLock(CompileLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

CompileLock& CompileLock::operator=(CompileLock&& other) noexcept {
  std::swap(fd_, other.fd_);
  return *this;
}

CompileLock::~CompileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace attnjit
