#include "tuner/plan.hpp"

#include <algorithm>
#include <random>

namespace attnjit::tuner {

std::optional<Strategy> parse_strategy(std::string_view name) {
  if (name == "exhaustive") return Strategy::Exhaustive;
  if (name == "random") return Strategy::Random;
  return std::nullopt;
}

std::string_view strategy_name(Strategy strategy) {
  switch (strategy) {
    case Strategy::Exhaustive: return "exhaustive";
    case Strategy::Random: return "random";
  }
  return "?";
}

std::vector<std::string> plan_configs(const Variant& variant, codegen::Family family,
                                      const codegen::Arch& arch, Strategy strategy,
                                      std::uint64_t seed) {
  std::vector<std::string> out = codegen::default_configs(variant, family, arch);
  std::vector<std::string> rest;
  for (std::string& config : codegen::search_space(variant, family, arch)) {
    if (std::find(out.begin(), out.end(), config) == out.end()) rest.push_back(std::move(config));
  }
  if (strategy == Strategy::Random) {
    // A hand-rolled Fisher-Yates: std::shuffle's order differs between
    // standard libraries, and a seed should name the same plan everywhere.
    std::mt19937_64 random(seed);
    for (std::size_t i = rest.size(); i > 1; --i) {
      std::swap(rest[i - 1], rest[random() % i]);
    }
  }
  out.insert(out.end(), rest.begin(), rest.end());
  return out;
}

}  // namespace attnjit::tuner
