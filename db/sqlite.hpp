// A thin RAII layer over the SQLite C API: every return code is checked and a
// failure becomes a DbError naming the database, the operation and SQLite's
// message. sqlite3.h stays out of this header so that tests and tools can run
// raw SQL without depending on it.
#pragma once

#include "db/kernel_store.hpp"

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace attnjit::db::sqlite {

// SQLITE_BUSY or SQLITE_LOCKED: another connection holds a lock we need.
class BusyError : public DbError {
 public:
  using DbError::DbError;
};

// A blob parameter, kept apart from text so that overloads cannot mix them up.
struct Blob {
  std::span<const char> bytes;
};

class Connection {
 public:
  // `flags` are sqlite3_open_v2's; the handle is closed again when opening fails.
  Connection(const std::string& filename, int flags);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  ~Connection();

  [[nodiscard]] sqlite3* handle() const { return db_; }
  [[nodiscard]] const std::string& filename() const { return filename_; }

  // Runs statements that return no rows we need (several, separated by ';').
  void execute(std::string_view sql) const;
  // The first column of the first row of a one-row query.
  [[nodiscard]] std::int64_t query_int(std::string_view sql) const;
  [[nodiscard]] std::string query_text(std::string_view sql) const;

  // Rows changed by the last INSERT, UPDATE or DELETE.
  [[nodiscard]] std::int64_t changes() const;
  [[nodiscard]] std::int64_t last_insert_rowid() const;

  // Throws DbError (BusyError for a lock conflict) for a failed `operation`.
  [[noreturn]] void fail(int code, std::string_view operation) const;

 private:
  sqlite3* db_ = nullptr;
  std::string filename_;
};

class Statement {
 public:
  Statement(const Connection& db, std::string_view sql);
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&&) = delete;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  // Parameters count from 1, as in SQL's `?`. Text and blobs are copied.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, Blob blob);
  // Binds the values to parameters 1, 2, ... in order.
  template <class... Values>
  Statement& bind_all(const Values&... values) {
    int index = 0;
    (bind(++index, values), ...);
    return *this;
  }

  // True while a row is ready; false when the statement has finished.
  bool step();
  // Steps to the end, for statements whose rows (if any) are not needed, and
  // resets, so that the statement can be bound and run again.
  void run();

  [[nodiscard]] std::int64_t int64(int column) const;
  [[nodiscard]] int int32(int column) const;
  [[nodiscard]] double real(int column) const;
  [[nodiscard]] std::string text(int column) const;
  [[nodiscard]] std::vector<char> blob(int column) const;

 private:
  void check_bind(int code, int index) const;
  [[nodiscard]] std::span<const char> bytes(int column) const;

  const Connection& db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string operation_;  // the start of the SQL, for error messages
};

// Reads a row's columns left to right, so that readers need not count them.
class RowReader {
 public:
  explicit RowReader(const Statement& statement) : statement_(statement) {}
  std::int64_t int64() { return statement_.int64(next_++); }
  int int32() { return statement_.int32(next_++); }
  double real() { return statement_.real(next_++); }
  std::string text() { return statement_.text(next_++); }
  std::vector<char> blob() { return statement_.blob(next_++); }

 private:
  const Statement& statement_;
  int next_ = 0;
};

// BEGIN IMMEDIATE: the write lock is taken up front, so the transaction never
// has to upgrade a read lock (which fails at once instead of waiting). Rolled
// back on destruction unless committed.
class Transaction {
 public:
  explicit Transaction(const Connection& db);
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction(Transaction&&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  void commit();

 private:
  const Connection& db_;
  bool done_ = false;
};

// Runs `attempt` again while it throws BusyError, until `timeout` has passed.
// For the steps SQLite's busy handler does not cover: changing the journal
// mode and first-time schema setup while other processes do the same.
template <class Attempt>
auto retry_while_busy(std::chrono::milliseconds timeout, Attempt attempt) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    try {
      return attempt();
    } catch (const BusyError&) {
      if (std::chrono::steady_clock::now() >= deadline) throw;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace attnjit::db::sqlite
