// The measuring side of tuning, run in its own process (`attnjit
// __measure-worker`): it owns the GPU, the random problem and the trusted
// results, and answers the tuner's requests (protocol.hpp) one line at a time.
#pragma once

#include <iosfwd>

namespace attnjit::tuner {

// Serves requests from `in` until it closes; returns the process's exit status.
int run_measure_worker(std::istream& in, std::ostream& out);

}  // namespace attnjit::tuner
