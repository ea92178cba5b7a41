// The kernel store on one connection: records, bookkeeping, damage, pruning,
// and the files it refuses.
#include "db/kernel_store.hpp"

#include "db/sqlite.hpp"
#include "tests/db/raw_edits.hpp"
#include "tests/db/scratch_dir.hpp"
#include "tests/db/synthetic_kernels.hpp"

#include <fstream>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

namespace attnjit::db {
namespace {

using testing::age_kernel;
using testing::execute_sql;
using testing::flip_cubin_byte;
using testing::ScratchDir;
using testing::synthetic_kernel;

constexpr std::int64_t kDay = std::int64_t{24} * 3600;

// Synthetic kernels 0 .. count - 1; their ids in that order.
std::vector<std::int64_t> put_kernels(KernelStore& store, int count, std::size_t cubin_bytes) {
  std::vector<std::int64_t> ids;
  ids.reserve(static_cast<std::size_t>(count));
  for (int n = 0; n < count; ++n) ids.push_back(store.put(synthetic_kernel(n, cubin_bytes)));
  return ids;
}

void expect_same_record(const KernelRecord& got, const KernelRecord& want) {
  EXPECT_EQ(got.key, want.key);
  EXPECT_EQ(got.variant_name, want.variant_name);
  EXPECT_EQ(got.canonical, want.canonical);
  EXPECT_EQ(got.source, want.source);
  EXPECT_EQ(got.source_hash, want.source_hash);
  EXPECT_EQ(got.launch.entry, want.launch.entry);
  EXPECT_EQ(got.launch.threads, want.launch.threads);
  EXPECT_EQ(got.launch.dynamic_smem, want.launch.dynamic_smem);
  EXPECT_EQ(got.launch.block_m, want.launch.block_m);
  EXPECT_EQ(got.usage.registers, want.usage.registers);
  EXPECT_EQ(got.usage.static_smem, want.usage.static_smem);
  EXPECT_EQ(got.usage.spill_bytes, want.usage.spill_bytes);
  EXPECT_EQ(got.usage.stack_bytes, want.usage.stack_bytes);
  EXPECT_DOUBLE_EQ(got.usage.compile_ms, want.usage.compile_ms);
  EXPECT_EQ(got.cubin, want.cubin);
}

TEST(KernelStore, RoundTripsEveryField) {
  const ScratchDir dir;
  const KernelRecord record = synthetic_kernel(7, 10000);
  const std::int64_t before = std::time(nullptr);
  std::int64_t id = 0;
  {
    KernelStore store(dir.db());
    id = store.put(record);
  }
  const KernelStore store(dir.db());
  const std::optional<StoredKernel> found = store.find(record.key);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, id);
  expect_same_record(found->record, record);
  EXPECT_EQ(found->cubin_sha256, checksum_hex(record.cubin.data(), record.cubin.size()));
  EXPECT_GE(found->created, before);
  EXPECT_LE(found->created, std::time(nullptr));
  EXPECT_EQ(found->last_used, found->created);

  const std::optional<StoredKernel> by_id = store.get(id);
  ASSERT_TRUE(by_id);
  expect_same_record(by_id->record, record);
}

TEST(KernelStore, EmptySourceAndCubinStayEmptyNotNull) {
  KernelStore store(":memory:");
  KernelRecord record = synthetic_kernel(1);
  record.source.clear();
  record.cubin.clear();
  const std::optional<StoredKernel> stored = store.get(store.put(record));
  ASSERT_TRUE(stored);
  EXPECT_TRUE(stored->record.cubin.empty());
  EXPECT_TRUE(stored->record.source.empty());
}

TEST(KernelStore, PuttingTheSameKeyTwiceKeepsTheFirst) {
  KernelStore store(":memory:");
  const KernelRecord first = synthetic_kernel(3);
  KernelRecord second = synthetic_kernel(3);
  second.usage.registers = 255;
  const std::int64_t id = store.put(first);
  EXPECT_EQ(store.put(second), id);
  EXPECT_EQ(store.list().size(), 1U);
  EXPECT_EQ(store.get(id)->record.usage.registers, first.usage.registers);
  EXPECT_EQ(store.stats().variants, 1);
}

TEST(KernelStore, MissingKernelsAreAbsent) {
  KernelStore store(":memory:");
  store.put(synthetic_kernel(1));
  KernelKey other = synthetic_kernel(1).key;
  other.arch = "sm_80";
  EXPECT_FALSE(store.find(other));
  EXPECT_FALSE(store.get(999));
}

TEST(KernelStore, TouchAndRemove) {
  const ScratchDir dir;
  KernelStore store(dir.db());
  const std::int64_t id = store.put(synthetic_kernel(1));
  age_kernel(dir.db(), id, kDay);
  EXPECT_LT(store.get(id)->last_used, std::time(nullptr) - kDay / 2);
  store.touch(id);
  EXPECT_GE(store.get(id)->last_used, std::time(nullptr) - 5);

  store.remove(id);
  EXPECT_FALSE(store.get(id));
  store.remove(id);
  EXPECT_EQ(store.stats().variants, 0);  // the variant went with its last kernel
}

TEST(KernelStore, ListsSummariesInIdOrderAndCountsStats) {
  const ScratchDir dir;
  KernelStore store(dir.db());
  EXPECT_TRUE(store.list().empty());
  std::int64_t cubin_bytes = 0;
  for (int n = 0; n < 5; ++n) {
    const KernelRecord record = synthetic_kernel(n, 1000 + 100 * n);
    store.put(record);
    cubin_bytes += static_cast<std::int64_t>(record.cubin.size());
  }
  const std::vector<KernelSummary> listed = store.list();
  ASSERT_EQ(listed.size(), 5U);
  for (std::size_t i = 0; i < listed.size(); ++i) {
    const KernelRecord record = synthetic_kernel(static_cast<int>(i), 1000 + 100 * i);
    const KernelSummary& summary = listed[i];
    if (i > 0) {
      EXPECT_GT(summary.id, listed[i - 1].id);
    }
    EXPECT_EQ(summary.key, record.key);
    EXPECT_EQ(summary.variant_name, record.variant_name);
    EXPECT_EQ(summary.launch.dynamic_smem, record.launch.dynamic_smem);
    EXPECT_EQ(summary.usage.registers, record.usage.registers);
    EXPECT_EQ(summary.usage.spill_bytes, record.usage.spill_bytes);
    EXPECT_EQ(summary.cubin_bytes, static_cast<std::int64_t>(record.cubin.size()));
    EXPECT_GT(summary.created, 0);
  }
  const Stats stats = store.stats();
  EXPECT_EQ(stats.kernels, 5);
  EXPECT_EQ(stats.variants, 3);
  EXPECT_EQ(stats.tuning_records, 0);
  EXPECT_EQ(stats.cubin_bytes, cubin_bytes);
  EXPECT_GT(stats.file_bytes, cubin_bytes);
  EXPECT_EQ(KernelStore(":memory:").stats().file_bytes, 0);
}

TEST(KernelStore, VerifyFindsAFlippedByte) {
  const ScratchDir dir;
  std::int64_t damaged = 0;
  {
    KernelStore store(dir.db());
    store.put(synthetic_kernel(1));
    damaged = store.put(synthetic_kernel(2));
    EXPECT_TRUE(store.verify().ok());
  }
  flip_cubin_byte(dir.db(), damaged, 1000);
  const VerifyReport report = KernelStore(dir.db()).verify();
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(report.integrity.empty());
  EXPECT_EQ(report.bad_checksums, std::vector<std::int64_t>{damaged});
}

TEST(KernelStore, VerifyFindsABlobThatIsNoCubin) {
  KernelStore store(":memory:");
  KernelRecord text = synthetic_kernel(1);
  text.cubin = {'n', 'o', 't', ' ', 'E', 'L', 'F'};
  KernelRecord x86 = synthetic_kernel(2);
  x86.cubin[18] = 62;  // EM_X86_64
  KernelRecord good = synthetic_kernel(3);
  const std::int64_t text_id = store.put(text);
  const std::int64_t x86_id = store.put(x86);
  store.put(good);
  EXPECT_EQ(store.verify().bad_checksums, (std::vector<std::int64_t>{text_id, x86_id}));
}

TEST(KernelStore, PrunesByAge) {
  const ScratchDir dir;
  KernelStore store(dir.db());
  const std::vector<std::int64_t> ids = put_kernels(store, 4, 4096);
  age_kernel(dir.db(), ids[0], 40 * kDay);
  age_kernel(dir.db(), ids[2], 31 * kDay);
  age_kernel(dir.db(), ids[3], 29 * kDay);
  EXPECT_EQ(store.prune(std::chrono::hours(24 * 30), std::nullopt), 2);
  std::set<std::int64_t> left;
  for (const KernelSummary& summary : store.list()) left.insert(summary.id);
  EXPECT_EQ(left, (std::set<std::int64_t>{ids[1], ids[3]}));
  EXPECT_EQ(store.stats().variants, 2);  // variant0 had kernels 0 and 3; variant2 only 2
  EXPECT_TRUE(store.verify().ok());
}

TEST(KernelStore, PrunesLeastRecentlyUsedDownToSize) {
  const ScratchDir dir;
  KernelStore store(dir.db());
  const std::vector<std::int64_t> ids = put_kernels(store, 5, 1000);
  // Least recent first: 3, 0, 4, 1, 2.
  age_kernel(dir.db(), ids[3], 500);
  age_kernel(dir.db(), ids[0], 400);
  age_kernel(dir.db(), ids[4], 300);
  age_kernel(dir.db(), ids[1], 200);
  age_kernel(dir.db(), ids[2], 100);
  EXPECT_EQ(store.prune(std::nullopt, 2500), 3);
  std::set<std::int64_t> left;
  for (const KernelSummary& summary : store.list()) left.insert(summary.id);
  EXPECT_EQ(left, (std::set<std::int64_t>{ids[1], ids[2]}));
  EXPECT_EQ(store.prune(std::nullopt, 2000), 0);
  EXPECT_EQ(store.prune(std::nullopt, 0), 2);
  EXPECT_EQ(store.stats().variants, 0);
}

TEST(KernelStore, PruneGivesSpaceBack) {
  const ScratchDir dir;
  std::int64_t full = 0;
  {
    KernelStore store(dir.db());
    put_kernels(store, 8, std::size_t{256} * 1024);
    full = store.stats().file_bytes;
    EXPECT_EQ(store.prune(std::nullopt, 0), 8);
  }
  // Closing the last connection checkpoints the WAL into the file and truncates it.
  EXPECT_LT(KernelStore(dir.db()).stats().file_bytes, full / 4);
}

TEST(KernelStore, PruneKeepsVariantsThatTuningRecordsUse) {
  KernelStore store(":memory:");
  const KernelRecord record = synthetic_kernel(1);
  store.put(record);
  TuningRecord tuning;
  tuning.key = {record.key.variant_hash, "fa2_sm80", "NVIDIA H100", "tc", {10, 10, 5}};
  tuning.config = record.key.config;
  store.put_tuning(tuning);
  EXPECT_EQ(store.prune(std::nullopt, 0), 1);
  EXPECT_EQ(store.stats().variants, 1);
}

TEST(KernelStore, ClearRemovesEverything) {
  KernelStore store(":memory:");
  for (int n = 0; n < 4; ++n) store.put(synthetic_kernel(n));
  TuningRecord tuning;
  tuning.key.variant_hash = synthetic_kernel(0).key.variant_hash;
  store.put_tuning(tuning);
  EXPECT_EQ(store.clear(), 4);
  const Stats stats = store.stats();
  EXPECT_EQ(stats.kernels, 0);
  EXPECT_EQ(stats.variants, 0);
  EXPECT_EQ(stats.tuning_records, 0);
  EXPECT_EQ(store.clear(), 0);
}

TEST(KernelStore, RefusesASchemaNewerThanItsOwn) {
  const ScratchDir dir;
  { const KernelStore store(dir.db()); }
  execute_sql(dir.db(), "PRAGMA user_version = 2");
  try {
    const KernelStore store(dir.db());
    FAIL() << "opened a database of schema version 2";
  } catch (const DbError& error) {
    EXPECT_NE(std::string(error.what()).find("newer attnjit"), std::string::npos) << error.what();
  }
}

TEST(KernelStore, RefusesOtherProgramsDatabases) {
  const ScratchDir dir;
  execute_sql(dir.db(), "CREATE TABLE notes(text TEXT)");
  EXPECT_THROW(KernelStore{dir.db()}, DbError);

  const std::filesystem::path text = dir.path() / "notes.txt";
  std::ofstream(text) << std::string(4096, 'x');
  EXPECT_THROW(KernelStore{text}, DbError);
}

TEST(KernelStore, OpeningADirectoryOrAnUnwritablePlaceThrows) {
  const ScratchDir dir;
  EXPECT_THROW(KernelStore{dir.path()}, DbError);
  EXPECT_THROW(KernelStore{dir.path() / "missing" / "attnjit.db"}, DbError);
  const std::filesystem::path file = dir.path() / "plain-file";
  std::ofstream(file) << "x";
  EXPECT_THROW(KernelStore{file / "attnjit.db"}, DbError);
}

TEST(KernelStore, OpeningWaitsForAnotherConnectionsLockUpToTheTimeout) {
  const ScratchDir dir;
  const sqlite::Connection holder(dir.db().string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  holder.execute("BEGIN EXCLUSIVE");
  EXPECT_THROW(KernelStore(dir.db(), std::chrono::milliseconds(50)), DbError);
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    holder.execute("ROLLBACK");
  });
  EXPECT_NO_THROW(KernelStore(dir.db(), std::chrono::seconds(10)));
  release.join();
}

TEST(KernelStore, MovesKeepTheConnection) {
  KernelStore first(":memory:");
  const std::int64_t id = first.put(synthetic_kernel(1));
  KernelStore second(std::move(first));
  KernelStore third(":memory:");
  third = std::move(second);
  EXPECT_TRUE(third.get(id));
}

}  // namespace
}  // namespace attnjit::db
