// Opening the store's file: settings every connection needs, then the schema.
#pragma once

#include "db/sqlite.hpp"

#include <chrono>
#include <filesystem>

namespace attnjit::db {

// Opens or creates `file` read-write in WAL mode with foreign keys on, waits
// up to `busy_timeout` for other connections' locks, and migrates the schema.
// ":memory:" opens a private in-memory database.
sqlite::Connection open_database(const std::filesystem::path& file,
                                 std::chrono::milliseconds busy_timeout);

}  // namespace attnjit::db
