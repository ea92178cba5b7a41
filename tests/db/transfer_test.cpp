// Export to a new file and import from one: whole caches moved between machines.
#include "db/kernel_store.hpp"
#include "tests/db/raw_edits.hpp"
#include "tests/db/scratch_dir.hpp"
#include "tests/db/synthetic_kernels.hpp"

#include <fstream>
#include <set>

#include <gtest/gtest.h>

namespace attnjit::db {
namespace {

using testing::ScratchDir;
using testing::synthetic_kernel;

TuningRecord tuning_for(const KernelRecord& kernel, int log2_len) {
  TuningRecord record;
  record.key = {kernel.key.variant_hash,
                kernel.key.family,
                "NVIDIA H100",
                kernel.key.toolchain,
                {log2_len, log2_len, 5}};
  record.config = kernel.key.config;
  record.best_ms = 1.0;
  return record;
}

std::set<std::string> configs(const KernelStore& store) {
  std::set<std::string> out;
  for (const KernelSummary& summary : store.list()) out.insert(summary.key.config);
  return out;
}

TEST(Transfer, ExportThenImportRoundTrips) {
  const ScratchDir dir;
  const std::filesystem::path exported = dir.path() / "export.db";
  {
    KernelStore source(dir.path() / "source.db");
    for (int n = 0; n < 4; ++n) source.put(synthetic_kernel(n));
    source.put_tuning(tuning_for(synthetic_kernel(0), 12));
    source.export_to(exported);
  }
  KernelStore target(dir.path() / "target.db");
  const std::int64_t kept = target.put(synthetic_kernel(2));  // already there: stays as it is
  target.put(synthetic_kernel(9));                            // variant 0, only here
  const ImportCounts counts = target.import_from(exported);
  EXPECT_EQ(counts.variants, 1);  // variant 1; variants 0 and 2 were there
  EXPECT_EQ(counts.kernels, 3);
  EXPECT_EQ(counts.tuning_records, 1);

  std::set<std::string> expected;
  for (const int n : {0, 1, 2, 3, 9}) {
    const KernelRecord record = synthetic_kernel(n);
    expected.insert(record.key.config);
    const std::optional<StoredKernel> stored = target.find(record.key);
    ASSERT_TRUE(stored) << n;
    EXPECT_EQ(stored->record.cubin, record.cubin);
    EXPECT_EQ(stored->record.canonical, record.canonical);
  }
  EXPECT_EQ(configs(target), expected);
  EXPECT_EQ(target.find(synthetic_kernel(2).key)->id, kept);
  EXPECT_EQ(target.tuning_records().size(), 1U);
  EXPECT_TRUE(target.verify().ok());

  const ImportCounts again = target.import_from(exported);
  EXPECT_EQ(again.variants, 0);
  EXPECT_EQ(again.kernels, 0);
  EXPECT_EQ(again.tuning_records, 0);
  EXPECT_EQ(target.list().size(), 5U);
}

TEST(Transfer, ExportRefusesAnExistingFile) {
  const ScratchDir dir;
  KernelStore store(":memory:");
  const std::filesystem::path existing = dir.path() / "existing.db";
  std::ofstream(existing).close();
  EXPECT_THROW(store.export_to(existing), DbError);
  EXPECT_EQ(std::filesystem::file_size(existing), 0U);
  EXPECT_THROW(store.export_to(dir.path() / "missing-dir" / "x.db"), DbError);
}

TEST(Transfer, ImportRefusesWhatIsNoAttnjitDatabase) {
  const ScratchDir dir;
  KernelStore store(dir.db());
  EXPECT_THROW(store.import_from(dir.path() / "missing.db"), DbError);

  const std::filesystem::path text = dir.path() / "text.db";
  std::ofstream(text) << std::string(8192, 't');
  EXPECT_THROW(store.import_from(text), DbError);

  const std::filesystem::path other = dir.path() / "other.db";
  testing::execute_sql(other, "CREATE TABLE kernels(id INTEGER)");
  EXPECT_THROW(store.import_from(other), DbError);

  const std::filesystem::path newer = dir.path() / "newer.db";
  KernelStore(":memory:").export_to(newer);
  testing::execute_sql(newer, "PRAGMA user_version = 2");
  try {
    store.import_from(newer);
    FAIL() << "imported a database of schema version 2";
  } catch (const DbError& error) {
    EXPECT_NE(std::string(error.what()).find("not an attnjit database"), std::string::npos);
  }
  // The store is still usable: nothing stayed attached or in a transaction.
  store.put(synthetic_kernel(1));
  EXPECT_EQ(store.list().size(), 1U);
}

}  // namespace
}  // namespace attnjit::db
