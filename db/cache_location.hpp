// Where the cache lives (DESIGN.md): --cache-dir, else $ATTNJIT_CACHE_DIR, else
// $XDG_CACHE_HOME/attnjit, else ~/.cache/attnjit. Environment passed in, so
// that tests need not touch the process's.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace attnjit::db {

using GetEnv = std::function<std::optional<std::string>(const char* name)>;

// The process environment: unset and empty variables are both absent.
std::optional<std::string> process_env(const char* name);

// Throws Error when neither an override, nor the variables, nor HOME name a place.
std::filesystem::path cache_dir(const std::optional<std::filesystem::path>& override_dir,
                                const GetEnv& env = process_env);

// The database file inside a cache directory.
std::filesystem::path database_file(const std::filesystem::path& dir);

}  // namespace attnjit::db
