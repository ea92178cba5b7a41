// What KernelStore holds, shared by the files that implement its parts.
#pragma once

#include "db/kernel_store.hpp"
#include "db/open_database.hpp"
#include "db/sqlite.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <utility>

namespace attnjit::db {

struct KernelStore::Impl {
  Impl(std::filesystem::path path, std::chrono::milliseconds busy_timeout)
      : file(std::move(path)), db(open_database(file, busy_timeout)) {}

  std::filesystem::path file;
  // One connection for all threads: SQLite's own per-connection mutex would
  // not keep a thread's statements apart from another's transaction.
  std::mutex mutex;
  sqlite::Connection db;
};

// Unix seconds, for created and last_used.
inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace attnjit::db
