#include "fashion_mnist.h"

#include <algorithm>
#include <cstdlib>

#include "data_error.h"
#include "idx_file.h"

#ifndef ECOTTA_DEFAULT_DATA_DIR
#define ECOTTA_DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#endif

namespace ecotta::data {

Split parse_split(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "test") return Split::Test;
  throw DataError("unknown split '" + name + "' (expected 'train' or 'test')");
}

const std::array<std::string, 10>& fashion_mnist_classes() {
  static const std::array<std::string, 10> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  return names;
}

std::string default_data_dir() {
  if (const char* env = std::getenv("ECOTTA_DATA_DIR"); env && *env) return env;
  return ECOTTA_DEFAULT_DATA_DIR;
}

ImageSet load_fashion_mnist(const std::string& dir, Split split, size_t limit) {
  const std::string prefix = dir + (split == Split::Train ? "/train" : "/t10k");
  const std::string images_path = prefix + "-images-idx3-ubyte.gz";
  const std::string labels_path = prefix + "-labels-idx1-ubyte.gz";
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  if (images.dims.size() != 3)
    throw DataError("'" + images_path + "' should hold N x rows x cols images, but has " +
                    std::to_string(images.dims.size()) + " dimensions");
  if (labels.dims.size() != 1)
    throw DataError("'" + labels_path + "' should hold N labels, but has " + std::to_string(labels.dims.size()) +
                    " dimensions");
  if (images.dims[0] != labels.dims[0])
    throw DataError("'" + images_path + "' holds " + std::to_string(images.dims[0]) + " images but '" + labels_path +
                    "' holds " + std::to_string(labels.dims[0]) + " labels");
  for (uint8_t l : labels.data)
    if (l >= fashion_mnist_classes().size())
      throw DataError("'" + labels_path + "' holds label " + std::to_string(l) + "; Fashion-MNIST has 10 classes");

  ImageSet set;
  set.height = static_cast<int>(images.dims[1]);
  set.width = static_cast<int>(images.dims[2]);
  set.channels = 1;
  size_t n = images.dims[0];
  if (limit > 0 && limit < n) n = limit;
  images.data.resize(n * set.image_bytes());
  labels.data.resize(n);
  set.pixels = std::move(images.data);
  set.labels = std::move(labels.data);
  return set;
}

ImageSet to_model_input(const ImageSet& gray28) {
  if (gray28.channels != 1) throw DataError("to_model_input expects single-channel images");
  const int pad_y = (32 - gray28.height) / 2, pad_x = (32 - gray28.width) / 2;
  if (pad_y < 0 || pad_x < 0) throw DataError("to_model_input expects images no larger than 32x32");
  ImageSet out;
  out.height = 32;
  out.width = 32;
  out.channels = 3;
  out.pixels.reserve(gray28.size() * out.image_bytes());
  out.labels.reserve(gray28.size());
  // Plain loops: this reader also serves builds without OpenCV.
  std::vector<uint8_t> rgb(out.image_bytes());
  for (size_t i = 0; i < gray28.size(); ++i) {
    std::fill(rgb.begin(), rgb.end(), 0);
    const uint8_t* src = gray28.pixels.data() + i * gray28.image_bytes();
    for (int y = 0; y < gray28.height; ++y)
      for (int x = 0; x < gray28.width; ++x) {
        uint8_t* dst = rgb.data() + (size_t(y + pad_y) * 32 + (x + pad_x)) * 3;
        dst[0] = dst[1] = dst[2] = src[y * gray28.width + x];
      }
    out.push_back(rgb.data(), gray28.labels[i]);
  }
  return out;
}

}  // namespace ecotta::data
