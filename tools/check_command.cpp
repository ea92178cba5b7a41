#include "tools/check_command.hpp"

#include "tools/exit_status.hpp"
#include "tools/variant_files.hpp"
#include <attnjit/language.hpp>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace attnjit::cli {
namespace {

struct CheckOptions {
  std::vector<std::string> files;
  bool json = false;
};

std::string indented(const std::string& text) {
  std::string out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) out += "  " + line + "\n";
  return out;
}

int run_check(const CheckOptions& options) {
  int status = kSuccess;
  nlohmann::json listed = nlohmann::json::array();
  std::string text_out;
  for (const std::string& path : options.files) {
    const std::optional<std::string> source = read_source(path);
    if (!source) {
      std::cerr << fmt::format("attnjit: cannot read '{}'\n", path);
      status = kBadInput;
      continue;
    }
    const ParseResult result = parse_variants(*source, path);
    for (const Diagnostic& error : result.errors) std::cerr << error.render();
    if (!result.ok()) {
      status = kBadInput;
      continue;
    }
    for (const Variant& variant : result.variants) {
      listed.push_back({{"name", variant.name()},
                        {"hash", variant.hash()},
                        {"canonical", variant.canonical()},
                        {"file", path}});
      if (!text_out.empty()) text_out += "\n";
      text_out +=
          fmt::format("{} {}\n{}", variant.name(), variant.hash(), indented(variant.canonical()));
    }
  }
  std::cout << (options.json ? listed.dump(2) + "\n" : text_out);
  return status;
}

}  // namespace

void add_check_command(CLI::App& app, std::function<int()>& run) {
  auto options = std::make_shared<CheckOptions>();
  CLI::App* command = app.add_subcommand(
      "check", "Check variant files; print each variant's name, hash and canonical form");
  command->add_option("files", options->files, "Variant files (.attn)")->required();
  command->add_flag("--json", options->json, "Print one JSON array on stdout");
  command->callback([options, &run] { run = [options] { return run_check(*options); }; });
}

}  // namespace attnjit::cli
