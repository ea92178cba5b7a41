#include "db/cache_location.hpp"

#include <attnjit/error.hpp>

#include <cstdlib>

namespace attnjit::db {

std::optional<std::string> process_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

std::filesystem::path cache_dir(const std::optional<std::filesystem::path>& override_dir,
                                const GetEnv& env) {
  if (override_dir) return *override_dir;
  // An empty value means unset here too, whatever `env` reports.
  const auto named = [&](const char* name) -> std::optional<std::filesystem::path> {
    std::optional<std::string> value = env(name);
    if (!value || value->empty()) return std::nullopt;
    return std::filesystem::path(*value);
  };
  if (auto dir = named("ATTNJIT_CACHE_DIR")) return *dir;
  if (auto dir = named("XDG_CACHE_HOME")) return *dir / "attnjit";
  if (auto dir = named("HOME")) return *dir / ".cache" / "attnjit";
  throw Error(
      "cannot place the kernel cache: none of ATTNJIT_CACHE_DIR, XDG_CACHE_HOME and HOME is set "
      "(or pass --cache-dir)");
}

std::filesystem::path database_file(const std::filesystem::path& dir) { return dir / "attnjit.db"; }

}  // namespace attnjit::db
