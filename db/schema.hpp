// The database layout and its migrations, by PRAGMA user_version.
#pragma once

#include "db/sqlite.hpp"

#include <cstdint>

namespace attnjit::db {

// Marks a file as attnjit's in its header (PRAGMA application_id): "atnj".
inline constexpr std::int32_t kApplicationId = 0x61746e6a;

// Brings the schema up to KernelStore::kSchemaVersion in one transaction.
// Throws DbError for a database of a newer attnjit or of another program.
void migrate(const sqlite::Connection& db);

}  // namespace attnjit::db
