// Changes made to a database behind the store's back, as damage or the
// passing of time would make them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>

namespace attnjit::db::testing {

// Runs SQL on the file (created if missing) through a connection of its own.
void execute_sql(const std::filesystem::path& file, std::string_view sql);

// Inverts one byte of kernel `id`'s stored cubin, leaving its checksum as it was.
void flip_cubin_byte(const std::filesystem::path& file, std::int64_t id, std::size_t offset);

// Moves kernel `id`'s last use `seconds` into the past.
void age_kernel(const std::filesystem::path& file, std::int64_t id, std::int64_t seconds);

}  // namespace attnjit::db::testing
