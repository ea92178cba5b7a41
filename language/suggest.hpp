// "Did you mean" hints for near-miss names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace attnjit {

// " (did you mean 'x'?)" for the closest candidate within a small edit
// distance of `name`, else an empty string.
std::string did_you_mean(std::string_view name, const std::vector<std::string_view>& candidates);

}  // namespace attnjit
