#include "db/schema.hpp"

#include <fmt/format.h>

namespace attnjit::db {
namespace {

// Version 0 -> 1: the first layout. A kernel row repeats the variant's name so
// that listing needs no join; the canonical text is stored once per variant.
constexpr const char* kCreateVersion1 = R"(
CREATE TABLE variants(
  hash TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  canonical TEXT NOT NULL,
  created INTEGER NOT NULL);
CREATE TABLE kernels(
  id INTEGER PRIMARY KEY,
  variant_hash TEXT NOT NULL REFERENCES variants(hash),
  family TEXT NOT NULL,
  config TEXT NOT NULL,
  arch TEXT NOT NULL,
  toolchain TEXT NOT NULL,
  variant_name TEXT NOT NULL,
  source TEXT NOT NULL,
  source_hash TEXT NOT NULL,
  entry TEXT NOT NULL,
  threads INTEGER NOT NULL,
  dynamic_smem INTEGER NOT NULL,
  block_m INTEGER NOT NULL,
  registers INTEGER NOT NULL,
  static_smem INTEGER NOT NULL,
  spill_bytes INTEGER NOT NULL,
  stack_bytes INTEGER NOT NULL,
  compile_ms REAL NOT NULL,
  cubin BLOB NOT NULL,
  cubin_sha256 TEXT NOT NULL,
  created INTEGER NOT NULL,
  last_used INTEGER NOT NULL,
  UNIQUE(variant_hash, family, config, arch, toolchain));
CREATE INDEX kernels_by_last_used ON kernels(last_used);
CREATE TABLE tuning(
  variant_hash TEXT NOT NULL,
  family TEXT NOT NULL,
  gpu TEXT NOT NULL,
  toolchain TEXT NOT NULL,
  log2_q_len INTEGER NOT NULL,
  log2_kv_len INTEGER NOT NULL,
  log2_rows INTEGER NOT NULL,
  config TEXT NOT NULL,
  best_ms REAL NOT NULL,
  default_ms REAL NOT NULL,
  created INTEGER NOT NULL,
  PRIMARY KEY(variant_hash, family, gpu, toolchain, log2_q_len, log2_kv_len, log2_rows));
)";

void refuse_foreign(const sqlite::Connection& db, std::int64_t version) {
  if (version > KernelStore::kSchemaVersion) {
    throw DbError(fmt::format(
        "database '{}' has schema version {}, from a newer attnjit (this one reads up to {})",
        db.filename(), version, KernelStore::kSchemaVersion));
  }
  const std::int64_t application = db.query_int("PRAGMA application_id");
  const bool unversioned_tables =
      version == 0 && db.query_int("SELECT count(*) FROM sqlite_schema") > 0;
  if ((application != 0 && application != kApplicationId) || unversioned_tables) {
    throw DbError(fmt::format("'{}' is not an attnjit database", db.filename()));
  }
}

}  // namespace

void migrate(const sqlite::Connection& db) {
  // Most opens find the schema current and need no write lock at all.
  const std::int64_t seen = db.query_int("PRAGMA user_version");
  refuse_foreign(db, seen);
  if (seen == KernelStore::kSchemaVersion) return;

  sqlite::Transaction transaction(db);
  // Another process may have migrated between the read above and the lock.
  const std::int64_t version = db.query_int("PRAGMA user_version");
  refuse_foreign(db, version);
  if (version == 0) {
    db.execute(kCreateVersion1);
    db.execute(fmt::format("PRAGMA application_id = {}", kApplicationId));
  }
  db.execute(fmt::format("PRAGMA user_version = {}", KernelStore::kSchemaVersion));
  transaction.commit();
}

}  // namespace attnjit::db
