#include "db/sqlite.hpp"

#include <utility>

#include <fmt/format.h>
#include <sqlite3.h>

namespace attnjit::db::sqlite {
namespace {

// SQLITE_TRANSIENT asks SQLite to copy a bound value before the call returns,
// so that callers may bind temporaries.
const sqlite3_destructor_type kCopyValue = SQLITE_TRANSIENT;

bool is_busy(int code) {
  const int primary = code & 0xff;
  return primary == SQLITE_BUSY || primary == SQLITE_LOCKED;
}

// Enough of the SQL to recognise the statement in an error message.
std::string describe(std::string_view sql) {
  constexpr std::size_t kLength = 48;
  std::string out;
  for (const char c : sql) {
    if (out.size() == kLength) return out + "...";
    const bool space = c == ' ' || c == '\n' || c == '\t';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out += space ? ' ' : c;
  }
  return out;
}

}  // namespace

Connection::Connection(const std::string& filename, int flags) : filename_(filename) {
  const int code = sqlite3_open_v2(filename.c_str(), &db_, flags, nullptr);
  if (code == SQLITE_OK) return;
  const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
  sqlite3_close_v2(db_);
  db_ = nullptr;
  throw DbError(fmt::format("cannot open the database '{}': {}", filename, message));
}

Connection::Connection(Connection&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), filename_(std::move(other.filename_)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
    filename_ = std::move(other.filename_);
  }
  return *this;
}

// Every Statement is finalized before its Connection goes, so close cannot
// find one still open; close_v2 would defer the close if it did.
Connection::~Connection() { sqlite3_close_v2(db_); }

void Connection::execute(std::string_view sql) const {
  const std::string text(sql);
  const int code = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (code != SQLITE_OK) fail(code, describe(sql));
}

std::int64_t Connection::query_int(std::string_view sql) const {
  Statement statement(*this, sql);
  if (!statement.step()) throw DbError(fmt::format("{}: no row from '{}'", filename_, sql));
  return statement.int64(0);
}

std::string Connection::query_text(std::string_view sql) const {
  Statement statement(*this, sql);
  if (!statement.step()) throw DbError(fmt::format("{}: no row from '{}'", filename_, sql));
  return statement.text(0);
}

std::int64_t Connection::changes() const { return sqlite3_changes64(db_); }

std::int64_t Connection::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

void Connection::fail(int code, std::string_view operation) const {
  const std::string message =
      fmt::format("database '{}': {}: {}", filename_, operation,
                  sqlite3_errcode(db_) == code ? sqlite3_errmsg(db_) : sqlite3_errstr(code));
  if (is_busy(code)) throw BusyError(message);
  throw DbError(message);
}

Statement::Statement(const Connection& db, std::string_view sql)
    : db_(db), operation_(describe(sql)) {
  const int code =
      sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (code != SQLITE_OK) db_.fail(code, operation_);
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::check_bind(int code, int index) const {
  if (code != SQLITE_OK) db_.fail(code, fmt::format("{} (parameter {})", operation_, index));
}

Statement& Statement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_, index, value), index);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  check_bind(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), kCopyValue, SQLITE_UTF8),
             index);
  return *this;
}

Statement& Statement::bind(int index, Blob blob) {
  // A null pointer would bind NULL, not an empty blob.
  static constexpr char kEmpty = 0;
  const char* data = blob.bytes.empty() ? &kEmpty : blob.bytes.data();
  check_bind(sqlite3_bind_blob64(stmt_, index, data, blob.bytes.size(), kCopyValue), index);
  return *this;
}

bool Statement::step() {
  const int code = sqlite3_step(stmt_);
  if (code == SQLITE_ROW) return true;
  if (code == SQLITE_DONE) return false;
  db_.fail(code, operation_);
}

void Statement::run() {
  while (step()) {
  }
  // Its code repeats the last step's, which step() has checked.
  sqlite3_reset(stmt_);
}

std::int64_t Statement::int64(int column) const { return sqlite3_column_int64(stmt_, column); }

int Statement::int32(int column) const { return sqlite3_column_int(stmt_, column); }

double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }

std::span<const char> Statement::bytes(int column) const {
  // For text too: SQLite hands over a TEXT value's bytes unchanged, as UTF-8.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (!data) return {};
  return {data, static_cast<std::size_t>(size)};
}

std::string Statement::text(int column) const {
  const std::span<const char> value = bytes(column);
  return {value.begin(), value.end()};
}

std::vector<char> Statement::blob(int column) const {
  const std::span<const char> value = bytes(column);
  return {value.begin(), value.end()};
}

Transaction::Transaction(const Connection& db) : db_(db) { db_.execute("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  // SQLite has already rolled back after some errors (disk full, I/O); a
  // second ROLLBACK would only fail.
  if (!done_ && sqlite3_get_autocommit(db_.handle()) == 0) {
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::commit() {
  db_.execute("COMMIT");
  done_ = true;
}

}  // namespace attnjit::db::sqlite
