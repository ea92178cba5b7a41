#include "tools/variant_files.hpp"

#include "runtime/cuda_driver.hpp"
#include "tools/cli_error.hpp"
#include <attnjit/language.hpp>

#include <array>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

namespace attnjit::cli {

std::optional<std::string> read_source(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text;
  std::array<char, 1 << 16> buffer{};
  while (in && text.size() <= kMaxSourceBytes) {
    in.read(buffer.data(), buffer.size());
    text.append(buffer.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return std::nullopt;
  return text;
}

std::vector<Variant> load_variants(const std::vector<std::string>& paths,
                                   const std::optional<std::string>& name) {
  std::vector<Variant> out;
  for (const std::string& path : paths) {
    const std::optional<std::string> source = read_source(path);
    if (!source) throw CliError(kBadInput, fmt::format("cannot read '{}'", path));
    ParseResult result = parse_variants(*source, path);
    for (const Diagnostic& error : result.errors) std::cerr << error.render();
    if (!result.ok()) throw CliError(kBadInput, fmt::format("'{}' has errors", path));
    for (Variant& variant : result.variants) {
      if (!name || variant.name() == *name) out.push_back(std::move(variant));
    }
  }
  if (out.empty()) {
    throw CliError(kBadInput, name ? fmt::format("no variant named '{}'", *name)
                                   : std::string("no variant in the files"));
  }
  return out;
}

codegen::Arch target_arch(const std::optional<std::string>& arch) {
  if (arch) {
    if (auto parsed = codegen::parse_arch(*arch)) return *parsed;
    throw CliError(kBadInput,
                   fmt::format("unknown arch '{}': expected sm_XY or sm_XYa, 80 or newer", *arch));
  }
  try {
    Driver driver;
    const Context context(driver, 0);
    if (auto parsed = codegen::parse_arch(context.arch())) return *parsed;
    throw CliError(kEnvironment, fmt::format("GPU arch {} is not supported", context.arch()));
  } catch (const NoGpuError& error) {
    throw CliError(kEnvironment,
                   fmt::format("{}; pass --arch sm_XX to generate without a GPU", error.what()));
  }
}

}  // namespace attnjit::cli
