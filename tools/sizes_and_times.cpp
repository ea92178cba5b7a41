#include "tools/sizes_and_times.hpp"

#include "tools/cli_error.hpp"

#include <array>
#include <charconv>
#include <ctime>
#include <limits>
#include <optional>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace attnjit::cli {
namespace {

struct Unit {
  char suffix;
  std::int64_t factor;
};

constexpr std::int64_t kKibi = 1024;
constexpr std::array<Unit, 3> kSizeUnits{
    {{'K', kKibi}, {'M', kKibi* kKibi}, {'G', kKibi* kKibi* kKibi}}};
constexpr std::array<Unit, 4> kDurationUnits{{{'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}}};

// A non-negative count followed by one of `units` (or by nothing, where
// `bare_factor` is given); nullopt when malformed or too large.
template <std::size_t N>
std::optional<std::int64_t> parse_scaled(std::string_view text, const std::array<Unit, N>& units,
                                         std::optional<std::int64_t> bare_factor) {
  std::int64_t count = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), count);
  if (error != std::errc() || count < 0 || end == text.data()) return std::nullopt;
  const std::string_view suffix(end, static_cast<std::size_t>(text.data() + text.size() - end));
  std::optional<std::int64_t> factor = suffix.empty() ? bare_factor : std::nullopt;
  for (const Unit& unit : units) {
    if (suffix.size() == 1 && suffix[0] == unit.suffix) factor = unit.factor;
  }
  if (!factor || count > std::numeric_limits<std::int64_t>::max() / *factor) return std::nullopt;
  return count * *factor;
}

}  // namespace

std::int64_t parse_size(std::string_view text) {
  const std::optional<std::int64_t> bytes = parse_scaled(text, kSizeUnits, 1);
  if (!bytes) {
    throw CliError(kBadInput, fmt::format("bad size '{}': bytes, or a count with K, M or G "
                                          "(e.g. 500M)",
                                          text));
  }
  return *bytes;
}

std::chrono::seconds parse_duration(std::string_view text) {
  const std::optional<std::int64_t> seconds = parse_scaled(text, kDurationUnits, std::nullopt);
  if (!seconds) {
    throw CliError(kBadInput, fmt::format("bad duration '{}': a count with s, m, h or d "
                                          "(e.g. 30d)",
                                          text));
  }
  return std::chrono::seconds(*seconds);
}

std::string human_size(std::int64_t bytes) {
  if (bytes < kKibi) return fmt::format("{}B", bytes);
  auto scaled = static_cast<double>(bytes);
  char suffix = 'B';
  for (const Unit& unit : kSizeUnits) {
    if (bytes >= unit.factor) {
      scaled = static_cast<double>(bytes) / static_cast<double>(unit.factor);
      suffix = unit.suffix;
    }
  }
  return fmt::format("{:.1f}{}", scaled, suffix);
}

std::string local_time(std::int64_t unix_seconds) {
  return fmt::format("{:%Y-%m-%d %H:%M}", fmt::localtime(static_cast<std::time_t>(unix_seconds)));
}

}  // namespace attnjit::cli
