// The kernel templates, compiled into the library: (include name, text) pairs
// to hand to NVRTC as headers.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace attnjit {

const std::vector<std::pair<std::string, std::string>>& embedded_templates();

}  // namespace attnjit
