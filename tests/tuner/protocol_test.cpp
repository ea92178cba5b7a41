// The measuring process rebuilds a kernel's launch from its MeasureRequest
// alone: every field of the launch crosses the pipe.
#include "tuner/protocol.hpp"

#include <gtest/gtest.h>

namespace attnjit::tuner {
namespace {

TEST(Protocol, MeasureRequestCarriesTheWholeLaunch) {
  MeasureRequest request;
  request.config = "bm=128,bn=128,stages=2,persistent=1";
  request.entry = "attnjit_fwd";
  request.threads = 384;
  request.dynamic_smem = 197744;
  request.block_m = 128;
  request.block_n = 128;
  request.tma_maps = true;
  request.head_group = 2;
  request.persistent = true;
  const nlohmann::json text = request;
  const auto back = nlohmann::json::parse(text.dump()).get<MeasureRequest>();
  EXPECT_EQ(back.config, request.config);
  EXPECT_EQ(back.dynamic_smem, request.dynamic_smem);
  EXPECT_TRUE(back.tma_maps);
  // A grid of the wrong head group or kind computes the wrong tiles (a
  // masked variant's every candidate then measured as wrong).
  EXPECT_EQ(back.head_group, 2);
  EXPECT_TRUE(back.persistent);
}

}  // namespace
}  // namespace attnjit::tuner
