#include "task_data.h"

#include "data/fashion_mnist.h"
#ifdef ECOTTA_WITH_OPENCV
#include "data/fashion_scenes.h"
#endif

namespace ecotta::tools {

train::TensorDataset load_task_data(const std::string& task, const std::string& split, const TaskDataOptions& options) {
  const std::string dir = options.data_dir.empty() ? data::default_data_dir() : options.data_dir;
  const auto which = data::parse_split(split);
  if (task == "classify") {
    const auto gray = data::load_fashion_mnist(dir, which, options.limit);
    return train::to_tensors(data::to_model_input(gray));
  }
  if (task == "segment") {
#ifndef ECOTTA_WITH_OPENCV
    throw std::invalid_argument("segmentation data (fashion scenes) needs a build with OpenCV");
#else
    const auto items = data::load_fashion_mnist(dir, which);
    const size_t count = options.limit ? options.limit
                                       : (which == data::Split::Train ? kDefaultTrainScenes : kDefaultTestScenes);
    // Train and test scenes differ in items (their splits) and in seed.
    const uint64_t seed = options.scene_seed * 2 + (which == data::Split::Train ? 0 : 1);
    const auto scenes = data::make_scenes(items, count, data::SceneOptions{}, seed);
    return train::to_tensors(scenes.images, &scenes.label_maps);
#endif
  }
  throw std::invalid_argument("unknown task '" + task + "' (expected classify or segment)");
}

std::string command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += i == 0 ? std::string("ecotta") : std::string(argv[i]);
  }
  return s;
}

namespace {
std::string& stored() {
  static std::string s;
  return s;
}
}  // namespace

void remember_command_line(int argc, char** argv) { stored() = command_line(argc, argv); }
const std::string& remembered_command_line() { return stored(); }

}  // namespace ecotta::tools
