// Which configs the tuner tries, and in what order.
#pragma once

#include "codegen/family.hpp"
#include <attnjit/variant.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnjit::tuner {

enum class Strategy : std::uint8_t {
  Exhaustive,  // the whole space, in the family's order
  Random,      // the space shuffled: a budget cuts it to a uniform sample
};

std::optional<Strategy> parse_strategy(std::string_view name);  // "exhaustive", "random"
std::string_view strategy_name(Strategy strategy);

// The family's default candidates first (the default's time is the baseline,
// and they are good guesses), then the rest of the search space per
// `strategy`; no config twice.
std::vector<std::string> plan_configs(const Variant& variant, codegen::Family family,
                                      const codegen::Arch& arch, Strategy strategy,
                                      std::uint64_t seed);

}  // namespace attnjit::tuner
