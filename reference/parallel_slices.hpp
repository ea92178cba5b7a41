// Work split over the host's cores: the reference attention, the pair count
// and the random inputs of big shapes each take seconds to minutes on one
// core, and their rows (or elements) are independent.
#pragma once

#include <cstdint>
#include <functional>

namespace attnjit::reference {

// Rows of attention a slice takes: enough that a slice outweighs its
// thread's start, few enough that short problems still spread.
constexpr std::int64_t kRowsASlice = 16;

// Calls body(begin, end) on contiguous slices that cover [0, count), each of
// at least `min_slice` items (the last may be shorter), on up to one thread a
// core. Which slices exist depends on count and min_slice alone, never on the
// number of cores, so a body that draws random numbers per slice gives the
// same results anywhere. The first exception a slice throws is rethrown here
// once every thread has finished.
void parallel_slices(std::int64_t count, std::int64_t min_slice,
                     const std::function<void(std::int64_t begin, std::int64_t end)>& body);

}  // namespace attnjit::reference
