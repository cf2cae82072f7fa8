#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "commands.h"
#include "task_data.h"

int main(int argc, char** argv) {
  CLI::App app{"ecotta: test-time adaptation tools (data, corruptions, models, benchmarks)", "ecotta"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ecotta ") + ECOTTA_VERSION);
  ecotta::tools::add_info_command(app);
  ecotta::tools::add_train_command(app);
  ecotta::tools::add_warmup_command(app);
  ecotta::tools::add_anchor_command(app);
  ecotta::tools::add_eval_command(app);
  ecotta::tools::add_inspect_command(app);
  ecotta::tools::add_import_command(app);
#ifdef ECOTTA_WITH_OPENCV
  ecotta::tools::add_corrupt_command(app);
  ecotta::tools::add_preview_command(app);
  ecotta::tools::add_stream_command(app);
  ecotta::tools::add_scenes_command(app);
  ecotta::tools::add_bench_command(app);
#endif
  ecotta::tools::remember_command_line(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecotta: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
