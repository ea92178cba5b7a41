// attnjit: the command-line face of the library (DESIGN.md's contract).
#include "tools/cache_command.hpp"
#include "tools/check_command.hpp"
#include "tools/cli_error.hpp"
#include "tools/codegen_command.hpp"
#include "tools/compile_command.hpp"
#include "tools/exit_status.hpp"
#include "tools/run_command.hpp"
#include "tools/tune_command.hpp"
#include <attnjit/error.hpp>

#include <exception>
#include <functional>
#include <iostream>

#include <CLI/CLI.hpp>

namespace {

int run_cli(int argc, char** argv) {
  using namespace attnjit::cli;
  CLI::App app("attnjit: JIT attention kernels from a variant language", "attnjit");
  app.require_subcommand(1);
  std::function<int()> run;
  add_check_command(app, run);
  add_codegen_command(app, run);
  add_compile_command(app, run);
  add_run_command(app, run);
  add_tune_command(app, run);
  add_cache_command(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& done) {
    return app.exit(done);
  } catch (const CLI::ParseError& error) {
    app.exit(error);
    return kUsage;
  }
  try {
    return run();
  } catch (const CliError& error) {
    std::cerr << "attnjit: " << error.what() << "\n";
    return error.status();
  } catch (const attnjit::SpecError& error) {
    std::cerr << "attnjit: " << error.what() << "\n";
    return kBadInput;
  } catch (const attnjit::InputError& error) {
    std::cerr << "attnjit: " << error.what() << "\n";
    return kBadInput;
  } catch (const std::exception& error) {
    std::cerr << "attnjit: " << error.what() << "\n";
    return kEnvironment;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run_cli(argc, argv);
  } catch (...) {
    // Only a failure to even report an error (out of memory, say) lands here.
    return attnjit::cli::kEnvironment;
  }
}
