// The host-side work split: every item once, slices fixed by the count and
// the least slice alone, and a slice's exception carried to the caller.
#include "reference/parallel_slices.hpp"

#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace attnjit::reference {
namespace {

TEST(ParallelSlices, CoversEveryItemOnceInFixedSlices) {
  std::vector<std::atomic<int>> seen(1000);
  std::mutex lock;
  std::set<std::pair<std::int64_t, std::int64_t>> slices;
  parallel_slices(1000, 64, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) ++seen[static_cast<std::size_t>(i)];
    const std::lock_guard<std::mutex> hold(lock);
    slices.emplace(begin, end);
  });
  for (const auto& count : seen) EXPECT_EQ(count, 1);
  ASSERT_EQ(slices.size(), 16U);
  EXPECT_EQ(*slices.begin(), (std::pair<std::int64_t, std::int64_t>{0, 64}));
  EXPECT_EQ(*slices.rbegin(), (std::pair<std::int64_t, std::int64_t>{960, 1000}));
}

TEST(ParallelSlices, AnEmptyRangeNeverCallsTheBody) {
  int calls = 0;
  parallel_slices(0, 8, [&](std::int64_t, std::int64_t) { ++calls; });
  parallel_slices(-3, 8, [&](std::int64_t, std::int64_t) { ++calls; });
  EXPECT_EQ(calls, 0);
}

TEST(ParallelSlices, ASlicesExceptionReachesTheCaller) {
  EXPECT_THROW(parallel_slices(100, 1,
                               [](std::int64_t begin, std::int64_t) {
                                 if (begin == 37) throw std::invalid_argument("slice 37");
                               }),
               std::invalid_argument);
}

}  // namespace
}  // namespace attnjit::reference
