#include <CLI/CLI.hpp>

#include <cstdio>

#include "commands.h"
#include "task_data.h"

namespace ecotta::tools {
namespace {

struct ScenesOptions {
  std::string split = "train", out;
  size_t count = 0;
  uint64_t seed = 0;
  bool gzip = false;
  std::string data_dir;
};

void run_scenes(const ScenesOptions& o) {
  TaskDataOptions d;
  d.data_dir = o.data_dir;
  d.limit = o.count;
  d.scene_seed = o.seed;
  const auto scenes = load_task_data("segment", o.split, d);
  write_idx_pair(scenes, o.out, o.gzip);
  const char* ext = o.gzip ? ".idx.gz" : ".idx";
  std::printf("wrote %lld scenes: %s-images%s (N x %lld x %lld x 3) and %s-labels%s (N x %lld x %lld label maps)\n",
              static_cast<long long>(scenes.size()), o.out.c_str(), ext, static_cast<long long>(scenes.images.size(1)),
              static_cast<long long>(scenes.images.size(2)), o.out.c_str(), ext,
              static_cast<long long>(scenes.images.size(1)), static_cast<long long>(scenes.images.size(2)));
}

}  // namespace

void add_scenes_command(CLI::App& app) {
  static ScenesOptions o;
  auto* cmd = app.add_subcommand("scenes", "Write fashion scenes and their label maps as IDX files "
                                           "(the segmentation data `ecotta train` makes, for training elsewhere)");
  cmd->add_option("--split", o.split, "Items from the train or test split")->capture_default_str();
  cmd->add_option("--count", o.count, "Number of scenes (default: 12000 train, 2000 test)");
  cmd->add_option("--seed", o.seed, "Scene seed (as `ecotta train`'s scenes for the same seed)")->capture_default_str();
  cmd->add_flag("--gzip", o.gzip, "Write .idx.gz");
  cmd->add_option("--out", o.out, "Output prefix")->required();
  cmd->add_option("--data-dir", o.data_dir, "Fashion-MNIST folder");
  cmd->callback([] { run_scenes(o); });
}

}  // namespace ecotta::tools
