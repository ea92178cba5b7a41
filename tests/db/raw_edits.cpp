#include "tests/db/raw_edits.hpp"

#include "db/sqlite.hpp"

#include <vector>

#include <fmt/format.h>
#include <sqlite3.h>

namespace attnjit::db::testing {
namespace {

sqlite::Connection connect(const std::filesystem::path& file) {
  sqlite::Connection db(file.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (const int code = sqlite3_busy_timeout(db.handle(), 10000); code != SQLITE_OK) {
    db.fail(code, "setting the busy timeout");
  }
  return db;
}

}  // namespace

void execute_sql(const std::filesystem::path& file, std::string_view sql) {
  connect(file).execute(sql);
}

void flip_cubin_byte(const std::filesystem::path& file, std::int64_t id, std::size_t offset) {
  const sqlite::Connection db = connect(file);
  std::vector<char> cubin;
  {
    sqlite::Statement read(db, "SELECT cubin FROM kernels WHERE id = ?");
    read.bind(1, id);
    if (!read.step()) throw DbError(fmt::format("no kernel {} to damage", id));
    cubin = read.blob(0);
  }
  if (offset >= cubin.size()) throw DbError(fmt::format("kernel {} has no byte {}", id, offset));
  cubin[offset] = static_cast<char>(~cubin[offset]);
  sqlite::Statement(db, "UPDATE kernels SET cubin = ? WHERE id = ?")
      .bind_all(sqlite::Blob{cubin}, id)
      .run();
}

void age_kernel(const std::filesystem::path& file, std::int64_t id, std::int64_t seconds) {
  const sqlite::Connection db = connect(file);
  sqlite::Statement(db, "UPDATE kernels SET last_used = last_used - ? WHERE id = ?")
      .bind_all(seconds, id)
      .run();
}

}  // namespace attnjit::db::testing
