#pragma once
// Each `ecotta` subcommand lives in its own cmd_*.cpp and registers itself
// on the application here; the callback runs the command and throws on error.
namespace CLI {
class App;
}

namespace ecotta::tools {

void add_info_command(CLI::App& app);
void add_train_command(CLI::App& app);

}  // namespace ecotta::tools
