// An error that ends a command with a given exit status and one message.
#pragma once

#include "tools/exit_status.hpp"

#include <stdexcept>
#include <string>

namespace attnjit::cli {

class CliError : public std::runtime_error {
 public:
  CliError(ExitStatus status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  [[nodiscard]] ExitStatus status() const { return status_; }

 private:
  ExitStatus status_;
};

}  // namespace attnjit::cli
