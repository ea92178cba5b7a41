#include "db/open_database.hpp"

#include "db/schema.hpp"

#include <system_error>

#include <fmt/format.h>
#include <sqlite3.h>

namespace attnjit::db {
namespace {

constexpr const char* kInMemory = ":memory:";

// Several processes opening a fresh file at once race to switch it to WAL;
// the loser sees BUSY, or the old mode reported back, without any wait.
void use_wal(const sqlite::Connection& db) {
  const std::string mode = db.query_text("PRAGMA journal_mode = WAL");
  if (mode != "wal" && db.filename() != kInMemory) {
    throw sqlite::BusyError(
        fmt::format("database '{}': cannot switch to WAL mode (still '{}')", db.filename(), mode));
  }
}

void configure(const sqlite::Connection& db) {
  // Only takes effect on a new file: lets prune and clear give space back.
  db.execute("PRAGMA auto_vacuum = INCREMENTAL");
  use_wal(db);
  // NORMAL is safe in WAL mode against a crashed process; only power loss
  // may drop the last commits, never corrupt the file.
  db.execute(
      "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;"
      "PRAGMA journal_size_limit = 67108864");
  migrate(db);
}

}  // namespace

sqlite::Connection open_database(const std::filesystem::path& file,
                                 std::chrono::milliseconds busy_timeout) {
  std::error_code error;
  if (std::filesystem::is_directory(file, error)) {
    throw DbError(fmt::format("cannot open the database '{}': it is a directory", file.string()));
  }
  // The store serialises its own use of the connection, so SQLite's mutex is
  // not needed. URIs are for import's read-only ATTACH; an absolute path keeps
  // the file's own name from being read as one.
  const std::string name =
      file == kInMemory ? file.string() : std::filesystem::absolute(file).string();
  sqlite::Connection db(
      name, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI);
  if (sqlite3_db_readonly(db.handle(), "main") == 1) {
    throw DbError(fmt::format("cannot open the database '{}': it is read-only", file.string()));
  }
  const int code = sqlite3_busy_timeout(db.handle(), static_cast<int>(busy_timeout.count()));
  if (code != SQLITE_OK) db.fail(code, "setting the busy timeout");
  // Every step may meet another process's lock while a fresh file is being
  // set up, and each is harmless to repeat.
  sqlite::retry_while_busy(busy_timeout, [&] { configure(db); });
  return db;
}

}  // namespace attnjit::db
