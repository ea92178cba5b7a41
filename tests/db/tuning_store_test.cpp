// Tuning records: replaced by key, looked up by the nearest shape bucket.
#include "db/kernel_store.hpp"

#include <gtest/gtest.h>

namespace attnjit::db {
namespace {

TuningRecord tuning(ShapeBucket bucket, std::string config, std::string gpu = "NVIDIA H100") {
  TuningRecord record;
  record.key = {"00000000a11ce000", "fa2_sm80", std::move(gpu), "nvrtc-13.0", bucket};
  record.config = std::move(config);
  record.best_ms = 1.25;
  record.default_ms = 2.5;
  return record;
}

TuningKey query(ShapeBucket bucket, std::string gpu = "NVIDIA H100") {
  return tuning(bucket, "", std::move(gpu)).key;
}

TEST(TuningStore, RoundTripsAndReplacesByKey) {
  KernelStore store(":memory:");
  const std::int64_t before = std::time(nullptr);
  store.put_tuning(tuning({13, 13, 5}, "bm=128"));
  store.put_tuning(tuning({13, 13, 5}, "bm=64"));
  const std::vector<TuningRecord> records = store.tuning_records();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].key, query({13, 13, 5}));
  EXPECT_EQ(records[0].config, "bm=64");
  EXPECT_DOUBLE_EQ(records[0].best_ms, 1.25);
  EXPECT_DOUBLE_EQ(records[0].default_ms, 2.5);
  EXPECT_GE(records[0].created, before);
  EXPECT_EQ(store.stats().tuning_records, 1);
}

TEST(TuningStore, NearestBucketBySumOfLog2Distances) {
  KernelStore store(":memory:");
  store.put_tuning(tuning({10, 10, 4}, "a"));
  store.put_tuning(tuning({13, 13, 6}, "b"));
  store.put_tuning(tuning({16, 16, 8}, "c"));
  EXPECT_EQ(store.nearest_tuning(query({10, 10, 4}))->config, "a");
  EXPECT_EQ(store.nearest_tuning(query({12, 12, 5}))->config, "b");  // 3 away from b, 5 from a
  EXPECT_EQ(store.nearest_tuning(query({20, 20, 9}))->config, "c");
  EXPECT_EQ(store.nearest_tuning(query({0, 0, 0}))->config, "a");
  EXPECT_EQ(store.nearest_tuning(query({10, 16, 6}))->config, "b");  // 6 from b; 8 from a and c
}

TEST(TuningStore, TiesGoToTheNewest) {
  KernelStore store(":memory:");
  store.put_tuning(tuning({10, 10, 4}, "older"));
  store.put_tuning(tuning({12, 12, 4}, "newer"));
  EXPECT_EQ(store.nearest_tuning(query({11, 11, 4}))->config, "newer");
  store.put_tuning(tuning({10, 10, 4}, "rewritten"));
  EXPECT_EQ(store.nearest_tuning(query({11, 11, 4}))->config, "rewritten");
}

TEST(TuningStore, OnlyTheSameVariantFamilyGpuAndToolchain) {
  KernelStore store(":memory:");
  store.put_tuning(tuning({10, 10, 4}, "h100"));
  EXPECT_FALSE(store.nearest_tuning(query({10, 10, 4}, "NVIDIA A100")));
  TuningKey other_toolchain = query({10, 10, 4});
  other_toolchain.toolchain = "nvrtc-12.8";
  EXPECT_FALSE(store.nearest_tuning(other_toolchain));
  TuningKey other_variant = query({10, 10, 4});
  other_variant.variant_hash = "ffffffffffffffff";
  EXPECT_FALSE(store.nearest_tuning(other_variant));
  EXPECT_TRUE(store.nearest_tuning(query({1, 2, 3})));
}

}  // namespace
}  // namespace attnjit::db
