#pragma once
#include <array>
#include <string>

#include "image_set.h"

namespace ecotta::data {

enum class Split { Train, Test };

Split parse_split(const std::string& name);  // "train" | "test"; throws DataError otherwise

// The Fashion-MNIST class names, in label order.
const std::array<std::string, 10>& fashion_mnist_classes();

// Folder holding the four gzipped IDX files: $ECOTTA_DATA_DIR if set, else the
// build-time default (Debian's dataset-fashion-mnist location).
std::string default_data_dir();

// Reads one split as 28x28x1 images and checks the image and label files agree.
ImageSet load_fashion_mnist(const std::string& dir, Split split, size_t limit = 0);

// Pads 28x28 gray images to 32x32 (2 black pixels each side) and replicates
// them to three channels: the model input geometry, so CIFAR-C corruption
// parameters apply unchanged.
ImageSet to_model_input(const ImageSet& gray28);

}  // namespace ecotta::data
