#include "reference/parallel_slices.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace attnjit::reference {

void parallel_slices(std::int64_t count, std::int64_t min_slice,
                     const std::function<void(std::int64_t begin, std::int64_t end)>& body) {
  if (count <= 0) return;
  const std::int64_t slice = std::max<std::int64_t>(1, min_slice);
  const std::int64_t slices = (count + slice - 1) / slice;
  const auto threads = static_cast<std::int64_t>(
      std::min<std::int64_t>(slices, std::max(1U, std::thread::hardware_concurrency())));
  std::atomic<std::int64_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_lock;
  // Slices are handed out one at a time, so uneven ones (masked rows) balance.
  const auto work = [&] {
    for (std::int64_t s = next++; s < slices; s = next++) {
      try {
        body(s * slice, std::min(count, (s + 1) * slice));
      } catch (...) {
        const std::lock_guard<std::mutex> hold(failure_lock);
        if (!failure) failure = std::current_exception();
        next = slices;
      }
    }
  };
  std::vector<std::jthread> pool;
  pool.reserve(static_cast<std::size_t>(threads - 1));
  for (std::int64_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  pool.clear();  // joins
  if (failure) std::rethrow_exception(failure);
}

}  // namespace attnjit::reference
