#include "harness/launch_timer.hpp"

#include <algorithm>
#include <chrono>

namespace attnjit::harness {
namespace {

// do_bench's cache buffer; the H100's L2 is 50 MB.
constexpr std::size_t kFlushBytes = std::size_t{256} << 20;

}  // namespace

LaunchTimer::LaunchTimer(const Context& context)
    : context_(context), flush_(context, kFlushBytes) {}

LaunchTimes LaunchTimer::time(const Stream& stream, const std::function<void()>& launch,
                              int iterations) {
  if (iterations <= 0) return {};
  while (static_cast<int>(starts_.size()) < iterations) {
    starts_.emplace_back(context_);
    stops_.emplace_back(context_);
  }
  std::chrono::steady_clock::duration host{};
  for (int i = 0; i < iterations; ++i) {
    flush_.fill_bytes_async(static_cast<unsigned char>(i), stream);
    starts_[i].record(stream);
    const auto before = std::chrono::steady_clock::now();
    launch();
    host += std::chrono::steady_clock::now() - before;
    stops_[i].record(stream);
  }
  stops_[iterations - 1].synchronize();
  std::vector<double> times;
  times.reserve(static_cast<std::size_t>(iterations));
  for (int i = 0; i < iterations; ++i) times.push_back(stops_[i].elapsed_ms(starts_[i]));
  std::sort(times.begin(), times.end());
  LaunchTimes result;
  result.median_ms = times[times.size() / 2];
  result.min_ms = times.front();
  result.host_us = std::chrono::duration<double, std::micro>(host).count() / iterations;
  return result;
}

}  // namespace attnjit::harness
