// The tuner's handle on its measuring process: started on demand, fed one
// request at a time, killed when it overruns its time, started again after it
// dies. A candidate that faults or hangs costs a restart, never the tuner.
#pragma once

#include "tuner/protocol.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace attnjit::tuner {

class WorkerProcess {
 public:
  // `command` runs a process that speaks protocol.hpp on stdin/stdout, e.g.
  // {"/proc/self/exe", "__measure-worker"}.
  explicit WorkerProcess(std::vector<std::string> command);
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;
  WorkerProcess(WorkerProcess&& other) noexcept;
  WorkerProcess& operator=(WorkerProcess&& other) noexcept;
  ~WorkerProcess();

  // Starts a process if none runs and sets it up; the setup is remembered and
  // replayed after a restart. Throws Error when the process cannot start.
  SetupReply setup(const SetupRequest& request, std::chrono::milliseconds timeout);

  // A reply, or one with ok = false saying the process died, hung past
  // `timeout` (it is killed) or could not be set up again.
  MeasureReply measure(const MeasureRequest& request, std::chrono::milliseconds timeout);

  [[nodiscard]] int restarts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace attnjit::tuner
