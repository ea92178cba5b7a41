#pragma once

#include "runtime/cuda_driver.hpp"

#include <functional>
#include <vector>

namespace attnjit::harness {

struct LaunchTimes {
  double median_ms = 0;
  double min_ms = 0;
  // Host time to enqueue one launch, the part a CUDA graph would save.
  double host_us = 0;
};

// Times launches the way the peers' benchmark does (triton.testing.do_bench):
// each launch after a write of `flush` (larger than L2, so that every launch
// starts cold) and between its own two events, all enqueued back to back and
// waited for once at the end, so that host overhead overlaps device work as
// in a real model's stream. The median over `iterations`.
class LaunchTimer {
 public:
  explicit LaunchTimer(const Context& context);

  [[nodiscard]] LaunchTimes time(const Stream& stream, const std::function<void()>& launch,
                                 int iterations);

 private:
  const Context& context_;
  DeviceBuffer flush_;
  std::vector<Event> starts_;
  std::vector<Event> stops_;
};

}  // namespace attnjit::harness
