// KernelStore's tuning records: the best config per variant, family, GPU,
// toolchain and shape bucket.
#include "db/columns.hpp"
#include "db/store_impl.hpp"

#include <fmt/format.h>

namespace attnjit::db {
namespace {

constexpr const char* kGroupMatches =
    "variant_hash = ? AND family = ? AND gpu = ? AND toolchain = ?";

TuningRecord read_tuning(sqlite::Statement& statement) {
  sqlite::RowReader row(statement);
  TuningRecord record;
  TuningKey& key = record.key;
  key.variant_hash = row.text();
  key.family = row.text();
  key.gpu = row.text();
  key.toolchain = row.text();
  key.bucket.log2_q_len = row.int32();
  key.bucket.log2_kv_len = row.int32();
  key.bucket.log2_rows = row.int32();
  record.config = row.text();
  record.best_ms = row.real();
  record.default_ms = row.real();
  record.created = row.int64();
  return record;
}

}  // namespace

void KernelStore::put_tuning(const TuningRecord& record) {
  const TuningKey& key = record.key;
  const std::lock_guard lock(impl_->mutex);
  sqlite::Statement(impl_->db, fmt::format("INSERT OR REPLACE INTO tuning({}) VALUES({})",
                                           kTuningColumns, placeholders(kTuningColumnCount)))
      .bind_all(key.variant_hash, key.family, key.gpu, key.toolchain, key.bucket.log2_q_len,
                key.bucket.log2_kv_len, key.bucket.log2_rows, record.config, record.best_ms,
                record.default_ms, unix_now())
      .run();
}

std::optional<TuningRecord> KernelStore::nearest_tuning(const TuningKey& key) const {
  const std::lock_guard lock(impl_->mutex);
  // REPLACE gives a rewritten row a new rowid, so rowid breaks ties between
  // records created in the same second.
  sqlite::Statement statement(
      impl_->db,
      fmt::format("SELECT {} FROM tuning WHERE {} ORDER BY abs(log2_q_len - ?) + "
                  "abs(log2_kv_len - ?) + abs(log2_rows - ?), created DESC, rowid DESC LIMIT 1",
                  kTuningColumns, kGroupMatches));
  statement.bind_all(key.variant_hash, key.family, key.gpu, key.toolchain, key.bucket.log2_q_len,
                     key.bucket.log2_kv_len, key.bucket.log2_rows);
  if (!statement.step()) return std::nullopt;
  return read_tuning(statement);
}

std::vector<TuningRecord> KernelStore::tuning_records() const {
  const std::lock_guard lock(impl_->mutex);
  sqlite::Statement statement(
      impl_->db, fmt::format("SELECT {} FROM tuning ORDER BY variant_hash, family, gpu, toolchain, "
                             "log2_q_len, log2_kv_len, log2_rows",
                             kTuningColumns));
  std::vector<TuningRecord> records;
  while (statement.step()) records.push_back(read_tuning(statement));
  return records;
}

}  // namespace attnjit::db
