// The units `attnjit cache` reads and prints: sizes (500M), durations (30d),
// human sizes (51.2K) and local times (2025-01-31 14:05).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace attnjit::cli {

// "12345", "100K", "500M", "2G" (powers of 1024). Throws CliError(kBadInput).
std::int64_t parse_size(std::string_view text);

// "45s", "90m", "12h", "30d". Throws CliError(kBadInput).
std::chrono::seconds parse_duration(std::string_view text);

// "512B", "51.2K", "1.5M", "2.0G".
std::string human_size(std::int64_t bytes);

// Unix seconds as local time, "YYYY-MM-DD HH:MM".
std::string local_time(std::int64_t unix_seconds);

}  // namespace attnjit::cli
