#include "db/kernel_store.hpp"

#include "db/columns.hpp"
#include "db/cubin_format.hpp"
#include "db/store_impl.hpp"

#include <system_error>

#include <fmt/format.h>

namespace attnjit::db {
namespace {

constexpr const char* kKeyMatches =
    "variant_hash = ? AND family = ? AND config = ? AND arch = ? AND toolchain = ?";

void bind_key(sqlite::Statement& statement, const KernelKey& key) {
  statement.bind_all(key.variant_hash, key.family, key.config, key.arch, key.toolchain);
}

std::string select_stored(std::string_view where) {
  return fmt::format(
      "SELECT id, {}, (SELECT canonical FROM variants WHERE hash = variant_hash) "
      "FROM kernels WHERE {}",
      kKernelColumns, where);
}

std::optional<StoredKernel> read_stored(sqlite::Statement& statement) {
  if (!statement.step()) return std::nullopt;
  sqlite::RowReader row(statement);
  StoredKernel stored;
  stored.id = row.int64();
  KernelRecord& record = stored.record;
  record.key = read_key(row);
  record.variant_name = row.text();
  record.source = row.text();
  record.source_hash = row.text();
  record.launch = read_launch(row);
  record.usage = read_usage(row);
  record.cubin = row.blob();
  stored.cubin_sha256 = row.text();
  stored.created = row.int64();
  stored.last_used = row.int64();
  record.canonical = row.text();
  return stored;
}

// Variants stay while a kernel or a tuning record refers to them.
void delete_orphan_variants(const sqlite::Connection& db) {
  db.execute(
      "DELETE FROM variants WHERE hash NOT IN (SELECT variant_hash FROM kernels) "
      "AND hash NOT IN (SELECT variant_hash FROM tuning)");
}

// With auto_vacuum = INCREMENTAL the freed pages go back to the file system.
void release_free_pages(const sqlite::Connection& db) { db.execute("PRAGMA incremental_vacuum"); }

std::int64_t file_size_or_zero(const std::filesystem::path& file) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(file, error);
  return error ? 0 : static_cast<std::int64_t>(size);
}

}  // namespace

KernelStore::KernelStore(const std::filesystem::path& file, std::chrono::milliseconds busy_timeout)
    : impl_(std::make_unique<Impl>(file, busy_timeout)) {}

KernelStore::KernelStore(KernelStore&&) noexcept = default;
KernelStore& KernelStore::operator=(KernelStore&&) noexcept = default;
KernelStore::~KernelStore() = default;

const std::filesystem::path& KernelStore::file() const { return impl_->file; }

std::optional<StoredKernel> KernelStore::find(const KernelKey& key) const {
  const std::lock_guard lock(impl_->mutex);
  sqlite::Statement statement(impl_->db, select_stored(kKeyMatches));
  bind_key(statement, key);
  return read_stored(statement);
}

std::optional<StoredKernel> KernelStore::get(std::int64_t id) const {
  const std::lock_guard lock(impl_->mutex);
  sqlite::Statement statement(impl_->db, select_stored("id = ?"));
  statement.bind(1, id);
  return read_stored(statement);
}

std::int64_t KernelStore::put(const KernelRecord& record) {
  const std::string checksum = checksum_hex(record.cubin.data(), record.cubin.size());
  const std::int64_t now = unix_now();
  const KernelKey& key = record.key;
  const std::lock_guard lock(impl_->mutex);
  const sqlite::Connection& db = impl_->db;
  sqlite::Transaction transaction(db);
  sqlite::Statement(
      db, fmt::format("INSERT OR IGNORE INTO variants({}) VALUES(?, ?, ?, ?)", kVariantColumns))
      .bind_all(key.variant_hash, record.variant_name, record.canonical, now)
      .run();
  sqlite::Statement insert(
      db, fmt::format("INSERT INTO kernels({}) VALUES({}) ON CONFLICT DO NOTHING", kKernelColumns,
                      placeholders(kKernelColumnCount)));
  bind_key(insert, key);
  const LaunchShape& launch = record.launch;
  const ResourceUsage& usage = record.usage;
  insert.bind(6, record.variant_name).bind(7, record.source).bind(8, record.source_hash);
  insert.bind(9, launch.entry).bind(10, launch.threads).bind(11, launch.dynamic_smem);
  insert.bind(12, launch.block_m).bind(13, usage.registers).bind(14, usage.static_smem);
  insert.bind(15, usage.spill_bytes).bind(16, usage.stack_bytes).bind(17, usage.compile_ms);
  insert.bind(18, sqlite::Blob{record.cubin}).bind(19, checksum).bind(20, now).bind(21, now);
  insert.run();
  std::int64_t id = db.last_insert_rowid();
  if (db.changes() == 0) {
    sqlite::Statement existing(db, fmt::format("SELECT id FROM kernels WHERE {}", kKeyMatches));
    bind_key(existing, key);
    if (!existing.step()) throw DbError("a kernel that conflicted on insert is not there");
    id = existing.int64(0);
  }
  transaction.commit();
  return id;
}

void KernelStore::touch(std::int64_t id) {
  const std::lock_guard lock(impl_->mutex);
  sqlite::Statement(impl_->db, "UPDATE kernels SET last_used = ? WHERE id = ?")
      .bind_all(unix_now(), id)
      .run();
}

void KernelStore::remove(std::int64_t id) {
  const std::lock_guard lock(impl_->mutex);
  sqlite::Transaction transaction(impl_->db);
  sqlite::Statement(impl_->db, "DELETE FROM kernels WHERE id = ?").bind(1, id).run();
  delete_orphan_variants(impl_->db);
  transaction.commit();
}

std::vector<KernelSummary> KernelStore::list() const {
  const std::lock_guard lock(impl_->mutex);
  // length() of a blob reads its size, not its content.
  sqlite::Statement statement(
      impl_->db,
      "SELECT id, variant_hash, family, config, arch, toolchain, variant_name, "
      "entry, threads, dynamic_smem, block_m, "
      "registers, static_smem, spill_bytes, stack_bytes, compile_ms, "
      "length(cubin), created, last_used FROM kernels ORDER BY id");
  std::vector<KernelSummary> summaries;
  while (statement.step()) {
    sqlite::RowReader row(statement);
    KernelSummary& summary = summaries.emplace_back();
    summary.id = row.int64();
    summary.key = read_key(row);
    summary.variant_name = row.text();
    summary.launch = read_launch(row);
    summary.usage = read_usage(row);
    summary.cubin_bytes = row.int64();
    summary.created = row.int64();
    summary.last_used = row.int64();
  }
  return summaries;
}

Stats KernelStore::stats() const {
  const std::lock_guard lock(impl_->mutex);
  const sqlite::Connection& db = impl_->db;
  Stats stats;
  stats.variants = db.query_int("SELECT count(*) FROM variants");
  stats.kernels = db.query_int("SELECT count(*) FROM kernels");
  stats.tuning_records = db.query_int("SELECT count(*) FROM tuning");
  stats.cubin_bytes = db.query_int("SELECT coalesce(sum(length(cubin)), 0) FROM kernels");
  std::filesystem::path wal = impl_->file;
  wal += "-wal";
  stats.file_bytes = file_size_or_zero(impl_->file) + file_size_or_zero(wal);
  return stats;
}

VerifyReport KernelStore::verify() const {
  const std::lock_guard lock(impl_->mutex);
  const sqlite::Connection& db = impl_->db;
  VerifyReport report;
  sqlite::Statement integrity(db, "PRAGMA integrity_check");
  while (integrity.step()) {
    if (std::string line = integrity.text(0); line != "ok") report.integrity.push_back(line);
  }
  sqlite::Statement references(db, "PRAGMA foreign_key_check");
  while (references.step()) {
    report.integrity.push_back(fmt::format("{} row {} refers to a missing row of {}",
                                           references.text(0), references.int64(1),
                                           references.text(2)));
  }
  sqlite::Statement cubins(db, "SELECT id, cubin, cubin_sha256 FROM kernels ORDER BY id");
  while (cubins.step()) {
    const std::vector<char> cubin = cubins.blob(1);
    if (!is_cuda_elf(cubin) || checksum_hex(cubin.data(), cubin.size()) != cubins.text(2)) {
      report.bad_checksums.push_back(cubins.int64(0));
    }
  }
  return report;
}

std::int64_t KernelStore::prune(std::optional<std::chrono::seconds> older_than,
                                std::optional<std::int64_t> max_bytes) {
  const std::lock_guard lock(impl_->mutex);
  const sqlite::Connection& db = impl_->db;
  sqlite::Transaction transaction(db);
  std::int64_t removed = 0;
  if (older_than) {
    sqlite::Statement(db, "DELETE FROM kernels WHERE last_used < ?")
        .bind(1, unix_now() - older_than->count())
        .run();
    removed += db.changes();
  }
  if (max_bytes) {
    std::int64_t total = db.query_int("SELECT coalesce(sum(length(cubin)), 0) FROM kernels");
    // Chosen first, deleted after: a table changing under its own scan is
    // undefined in SQLite.
    std::vector<std::int64_t> least_recent;
    sqlite::Statement oldest(db, "SELECT id, length(cubin) FROM kernels ORDER BY last_used, id");
    while (total > *max_bytes && oldest.step()) {
      least_recent.push_back(oldest.int64(0));
      total -= oldest.int64(1);
    }
    sqlite::Statement remove(db, "DELETE FROM kernels WHERE id = ?");
    for (const std::int64_t id : least_recent) remove.bind(1, id).run();
    removed += static_cast<std::int64_t>(least_recent.size());
  }
  delete_orphan_variants(db);
  release_free_pages(db);
  transaction.commit();
  return removed;
}

std::int64_t KernelStore::clear() {
  const std::lock_guard lock(impl_->mutex);
  const sqlite::Connection& db = impl_->db;
  sqlite::Transaction transaction(db);
  db.execute("DELETE FROM kernels");
  const std::int64_t removed = db.changes();
  db.execute("DELETE FROM tuning; DELETE FROM variants");
  release_free_pages(db);
  transaction.commit();
  return removed;
}

}  // namespace attnjit::db
