#pragma once
#include <cstdint>
#include <string>

#include "train/tensor_data.h"
#include "train/train_loop.h"

namespace ecotta::tools {

// The clean source data of a task, as the models consume it:
// classification: Fashion-MNIST padded to 32x32 RGB;
// segmentation: fashion scenes (64x64) built from the split's items.
struct TaskDataOptions {
  std::string data_dir;     // Fashion-MNIST folder; empty = default
  size_t limit = 0;         // first N samples (classification) / N scenes (segmentation); 0 = all / default
  uint64_t scene_seed = 0;  // segmentation only
  // External IDX files instead (as `ecotta corrupt` or `ecotta scenes` write
  // them): labels of N (classification) or label maps of N x H x W.
  std::string images_path, labels_path;
};
train::TensorDataset load_task_data(const std::string& task, const std::string& split, const TaskDataOptions& options);

// Segmentation training on new scenes every epoch (`ecotta train
// --fresh-scenes`): loads the Fashion-MNIST train items once and returns, for
// epoch e, `options.limit` scenes (default kDefaultTrainScenes) made with
// data::epoch_scene_seed(options.scene_seed, e). Throws for external data.
train::EpochData fresh_scenes(const TaskDataOptions& options);

// The per-sample corruption seed used by every tool.
uint64_t sample_seed(uint64_t seed, size_t index);

// Corrupts every image of the set in place (seed per sample derived from
// `seed` and the sample's index, as `ecotta corrupt` does). Needs OpenCV.
void corrupt_dataset(train::TensorDataset& data, const std::string& corruption, int severity, uint64_t seed);

// Reads an external IDX pair in `ecotta corrupt`'s format (N x H x W x 3
// images, and N labels or N x H x W label maps), checking it against the
// expected input geometry (0 = any).
train::TensorDataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                                   int64_t height, int64_t width);

// Writes PREFIX-images.idx[.gz] and PREFIX-labels.idx[.gz].
void write_idx_pair(const train::TensorDataset& data, const std::string& prefix, bool gzip);

// Scenes per split when not limited: enough to train and to measure mIoU.
constexpr size_t kDefaultTrainScenes = 12000;
constexpr size_t kDefaultTestScenes = 2000;

// The command line as typed, for provenance records.
std::string command_line(int argc, char** argv);
void remember_command_line(int argc, char** argv);
const std::string& remembered_command_line();

}  // namespace ecotta::tools
