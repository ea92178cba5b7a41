// The CLI's exit statuses (DESIGN.md's command-line contract).
#pragma once

namespace attnjit::cli {

enum ExitStatus : int {
  kSuccess = 0,
  kBadInput = 1,     // a bad spec, shape, or argument value
  kUsage = 2,        // the command line itself is malformed
  kEnvironment = 3,  // no GPU where one is needed, a driver or toolkit problem
};

}  // namespace attnjit::cli
