// The decode family's grid size: no GPU, a pure function of the counts.
#include "runtime/decode_launch.hpp"

#include <gtest/gtest.h>

namespace attnjit {
namespace {

// 132 SMs (an H100) hold 132 CTAs; 8 KV heads of one sequence are 8 segments.
TEST(DecodeCtaCount, EqualSegmentsTakeAWholeNumberOfCtasEach) {
  EXPECT_EQ(decode_cta_count(132, 8, 8192, true), 128);
  EXPECT_EQ(decode_cta_count(132, 64, 16384, true), 128);
  EXPECT_EQ(decode_cta_count(132, 128, 4096, true), 128);  // a CTA a segment
  EXPECT_EQ(decode_cta_count(132, 132, 4096, true), 132);
}

TEST(DecodeCtaCount, TheWholeCapacityWhereAlignmentWouldIdleTooMuch) {
  EXPECT_EQ(decode_cta_count(132, 24, 8192, true), 132);   // 120 of 132 is below 15/16
  EXPECT_EQ(decode_cta_count(132, 512, 8192, true), 132);  // more segments than CTAs
  EXPECT_EQ(decode_cta_count(132, 8, 8192, false), 132);   // a ragged batch
}

TEST(DecodeCtaCount, NeverMoreCtasThanTilesNorFewerThanOne) {
  EXPECT_EQ(decode_cta_count(132, 8, 40, true), 40);
  EXPECT_EQ(decode_cta_count(132, 8, 0, true), 1);
  EXPECT_EQ(decode_cta_count(132, 0, 0, false), 1);
}

}  // namespace
}  // namespace attnjit
