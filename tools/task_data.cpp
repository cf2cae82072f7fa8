#include "task_data.h"

#include "data/fashion_mnist.h"
#include "data/idx_file.h"
#include "data/splitmix.h"

#include <memory>

#include <torch/torch.h>
#ifdef ECOTTA_WITH_OPENCV
#include <opencv2/core.hpp>

#include "corrupt/corruption.h"
#include "data/fashion_scenes.h"
#endif

namespace ecotta::tools {

train::TensorDataset load_task_data(const std::string& task, const std::string& split, const TaskDataOptions& options) {
  if (!options.images_path.empty() || !options.labels_path.empty()) {
    if (options.images_path.empty() || options.labels_path.empty())
      throw std::invalid_argument("external data needs both an images and a labels IDX file");
    auto ds = load_idx_pair(options.images_path, options.labels_path, 0, 0);
    if ((task == "segment") != (ds.targets.dim() == 3))
      throw std::invalid_argument("'" + options.labels_path + "' holds " +
                                  (ds.targets.dim() == 3 ? "label maps" : "class labels") + ", not data for task " + task);
    if (options.limit && options.limit < static_cast<size_t>(ds.size())) ds = ds.slice(0, static_cast<int64_t>(options.limit));
    return ds;
  }
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

train::EpochData fresh_scenes(const TaskDataOptions& options) {
  if (!options.images_path.empty() || !options.labels_path.empty())
    throw std::invalid_argument("new scenes every epoch are generated here; they cannot come from external IDX files");
#ifndef ECOTTA_WITH_OPENCV
  throw std::invalid_argument("segmentation data (fashion scenes) needs a build with OpenCV");
#else
  const std::string dir = options.data_dir.empty() ? data::default_data_dir() : options.data_dir;
  auto items = std::make_shared<const data::ImageSet>(data::load_fashion_mnist(dir, data::Split::Train));
  const size_t count = options.limit ? options.limit : kDefaultTrainScenes;
  const uint64_t scene_seed = options.scene_seed;
  return [items, count, scene_seed](int epoch) {
    const auto scenes = data::make_scenes(*items, count, data::SceneOptions{}, data::epoch_scene_seed(scene_seed, epoch));
    return train::to_tensors(scenes.images, &scenes.label_maps);
  };
#endif
}

uint64_t sample_seed(uint64_t seed, size_t index) {
  // Independent streams per sample, so a sample's corruption does not depend
  // on how many others were asked for. (The constant keeps the seeds that
  // `ecotta corrupt` has always written.)
  return data::splitmix64(seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E019ull - 0x9e3779b97f4a7c15ULL);
}

void corrupt_dataset(train::TensorDataset& data, const std::string& corruption, int severity, uint64_t seed) {
#ifndef ECOTTA_WITH_OPENCV
  (void)data, (void)corruption, (void)severity, (void)seed;
  throw std::invalid_argument("corruptions need a build with OpenCV");
#else
  if (corruption == "clean") return;
  auto images = data.images.contiguous();
  const int h = static_cast<int>(images.size(1)), w = static_cast<int>(images.size(2));
  const size_t bytes = static_cast<size_t>(h) * w * 3;
  for (int64_t i = 0; i < images.size(0); ++i) {
    cv::Mat img(h, w, CV_8UC3, images.data_ptr<uint8_t>() + i * bytes);
    const cv::Mat out = corrupt::apply(corruption, severity, img, sample_seed(seed, static_cast<size_t>(i)));
    out.copyTo(img);
  }
  data.images = images;
#endif
}

train::TensorDataset load_idx_pair(const std::string& images_path, const std::string& labels_path, int64_t height,
                                   int64_t width) {
  auto images = data::read_idx(images_path);
  auto labels = data::read_idx(labels_path);
  if (images.dims.size() != 4 || images.dims[3] != 3 || (height && images.dims[1] != height) ||
      (width && images.dims[2] != width))
    throw std::invalid_argument("'" + images_path + "' must hold N x " + (height ? std::to_string(height) : "H") +
                                " x " + (width ? std::to_string(width) : "W") + " x 3 images");
  const bool maps = labels.dims.size() == 3;
  if (labels.dims.empty() || labels.dims[0] != images.dims[0] ||
      (maps ? (labels.dims[1] != images.dims[1] || labels.dims[2] != images.dims[2]) : labels.dims.size() != 1))
    throw std::invalid_argument("'" + labels_path + "' must hold one label (or one label map of the image size) per image of '" +
                                images_path + "' (" + std::to_string(images.dims[0]) + ")");
  const auto n = static_cast<int64_t>(images.dims[0]);
  const int64_t h = images.dims[1], w = images.dims[2];
  train::TensorDataset ds;
  ds.images = torch::from_blob(images.data.data(), {n, h, w, 3}, torch::kUInt8).clone();
  ds.targets = maps ? torch::from_blob(labels.data.data(), {n, h, w}, torch::kUInt8).to(torch::kInt64)
                    : torch::from_blob(labels.data.data(), {n}, torch::kUInt8).to(torch::kInt64);
  return ds;
}

void write_idx_pair(const train::TensorDataset& data, const std::string& prefix, bool gzip) {
  const std::string ext = gzip ? ".idx.gz" : ".idx";
  data::IdxArray images, labels;
  for (auto d : data.images.sizes()) images.dims.push_back(static_cast<uint32_t>(d));
  const auto img = data.images.contiguous();
  images.data.assign(img.data_ptr<uint8_t>(), img.data_ptr<uint8_t>() + img.numel());
  for (auto d : data.targets.sizes()) labels.dims.push_back(static_cast<uint32_t>(d));
  const auto lab = data.targets.to(torch::kUInt8).contiguous();
  labels.data.assign(lab.data_ptr<uint8_t>(), lab.data_ptr<uint8_t>() + lab.numel());
  data::write_idx(prefix + "-images" + ext, images);
  data::write_idx(prefix + "-labels" + ext, labels);
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
