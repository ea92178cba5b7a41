// Where the cache lives, with a fake environment.
#include "db/cache_location.hpp"

#include <attnjit/error.hpp>

#include <map>

#include <gtest/gtest.h>

namespace attnjit::db {
namespace {

GetEnv fake_env(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](const char* name) -> std::optional<std::string> {
    const auto found = variables.find(name);
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

const std::map<std::string, std::string> kAll = {
    {"ATTNJIT_CACHE_DIR", "/explicit"}, {"XDG_CACHE_HOME", "/xdg"}, {"HOME", "/home/u"}};

TEST(CacheLocation, OverrideComesFirst) {
  EXPECT_EQ(cache_dir(std::filesystem::path("/given"), fake_env(kAll)), "/given");
}

TEST(CacheLocation, ThenTheVariablesInOrder) {
  EXPECT_EQ(cache_dir(std::nullopt, fake_env(kAll)), "/explicit");
  EXPECT_EQ(cache_dir(std::nullopt, fake_env({{"XDG_CACHE_HOME", "/xdg"}, {"HOME", "/home/u"}})),
            "/xdg/attnjit");
  EXPECT_EQ(cache_dir(std::nullopt, fake_env({{"HOME", "/home/u"}})), "/home/u/.cache/attnjit");
}

TEST(CacheLocation, EmptyVariablesCountAsUnset) {
  EXPECT_EQ(
      cache_dir(std::nullopt,
                fake_env({{"ATTNJIT_CACHE_DIR", ""}, {"XDG_CACHE_HOME", ""}, {"HOME", "/home/u"}})),
      "/home/u/.cache/attnjit");
  EXPECT_THROW(cache_dir(std::nullopt, fake_env({{"HOME", ""}})), Error);
  EXPECT_THROW(cache_dir(std::nullopt, fake_env({})), Error);
}

TEST(CacheLocation, DatabaseFileInsideTheDirectory) {
  EXPECT_EQ(database_file("/c/attnjit"), std::filesystem::path("/c/attnjit/attnjit.db"));
}

TEST(CacheLocation, ProcessEnvTreatsEmptyAsUnset) {
  ::setenv("ATTNJIT_TEST_EMPTY", "", 1);
  ::setenv("ATTNJIT_TEST_SET", "value", 1);
  ::unsetenv("ATTNJIT_TEST_UNSET");
  EXPECT_EQ(process_env("ATTNJIT_TEST_EMPTY"), std::nullopt);
  EXPECT_EQ(process_env("ATTNJIT_TEST_SET"), "value");
  EXPECT_EQ(process_env("ATTNJIT_TEST_UNSET"), std::nullopt);
}

}  // namespace
}  // namespace attnjit::db
