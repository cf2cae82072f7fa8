#pragma once
// Each `ecotta` subcommand lives in its own cmd_*.cpp and registers itself
// on the application here; the callback runs the command and throws on error.
namespace CLI {
class App;
}

namespace ecotta::tools {

void add_info_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_warmup_command(CLI::App& app);
void add_anchor_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_import_command(CLI::App& app);

// Commands that draw, corrupt or write video (builds with OpenCV only).
void add_corrupt_command(CLI::App& app);
void add_preview_command(CLI::App& app);
void add_stream_command(CLI::App& app);
void add_scenes_command(CLI::App& app);
void add_bench_command(CLI::App& app);

}  // namespace ecotta::tools
