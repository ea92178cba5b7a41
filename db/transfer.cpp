// KernelStore's export and import: whole databases moved between machines.
#include "db/columns.hpp"
#include "db/schema.hpp"
#include "db/store_impl.hpp"

#include <cctype>
#include <optional>
#include <system_error>

#include <fmt/format.h>
#include <sqlite3.h>

namespace attnjit::db {
namespace {

// A read-only URI for ATTACH, with every byte outside the unreserved set escaped.
std::string read_only_uri(const std::filesystem::path& file) {
  std::string uri = "file:";
  for (const char c : std::filesystem::absolute(file).string()) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain =
        std::isalnum(byte) != 0 || c == '/' || c == '.' || c == '_' || c == '-' || c == '~';
    uri += plain ? std::string(1, c) : fmt::format("%{:02X}", byte);
  }
  return uri + "?mode=ro";
}

// Another database attached to the connection as schema `source` for the
// lifetime of this object.
class AttachedSource {
 public:
  AttachedSource(const sqlite::Connection& db, const std::filesystem::path& file) : db_(db) {
    sqlite::Statement(db, "ATTACH DATABASE ? AS source").bind(1, read_only_uri(file)).run();
  }
  AttachedSource(const AttachedSource&) = delete;
  AttachedSource& operator=(const AttachedSource&) = delete;
  AttachedSource(AttachedSource&&) = delete;
  AttachedSource& operator=(AttachedSource&&) = delete;
  // DETACH fails only inside a transaction, and every transaction here ends
  // before the source is detached.
  ~AttachedSource() {
    sqlite3_exec(db_.handle(), "DETACH DATABASE source", nullptr, nullptr, nullptr);
  }

 private:
  const sqlite::Connection& db_;
};

std::int64_t copy_new_rows(const sqlite::Connection& db, std::string_view table,
                           std::string_view columns) {
  db.execute(fmt::format("INSERT OR IGNORE INTO main.{0}({1}) SELECT {1} FROM source.{0}", table,
                         columns));
  return db.changes();
}

}  // namespace

void KernelStore::export_to(const std::filesystem::path& file) const {
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::symlink_status(file, error))) {
    throw DbError(fmt::format("cannot export to '{}': it exists", file.string()));
  }
  const std::lock_guard lock(impl_->mutex);
  sqlite::Statement(impl_->db, "VACUUM INTO ?").bind(1, file.string()).run();
}

ImportCounts KernelStore::import_from(const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(file, error)) {
    throw DbError(fmt::format("cannot import '{}': no such file", file.string()));
  }
  const std::lock_guard lock(impl_->mutex);
  const sqlite::Connection& db = impl_->db;
  std::optional<AttachedSource> source;
  std::int64_t version = 0;
  std::int64_t application = 0;
  try {
    source.emplace(db, file);
    version = db.query_int("PRAGMA source.user_version");
    application = db.query_int("PRAGMA source.application_id");
  } catch (const sqlite::BusyError&) {
    throw;
  } catch (const DbError&) {
    // SQLite's message would name the cache, not the file that is wrong.
    throw DbError(fmt::format("cannot import '{}': not an attnjit database", file.string()));
  }
  if (application != kApplicationId || version < 1 || version > kSchemaVersion) {
    throw DbError(fmt::format(
        "cannot import '{}': not an attnjit database of schema version 1 to {} (found {})",
        file.string(), kSchemaVersion, version));
  }
  ImportCounts counts;
  sqlite::Transaction transaction(db);
  counts.variants = copy_new_rows(db, "variants", kVariantColumns);
  // Ids are not copied: they are local to a database.
  counts.kernels = copy_new_rows(db, "kernels", kKernelColumns);
  counts.tuning_records = copy_new_rows(db, "tuning", kTuningColumns);
  transaction.commit();
  return counts;
}

}  // namespace attnjit::db
