#pragma once
#include <torch/types.h>

#include "data/image_set.h"
#include "model/bundle.h"

namespace ecotta::train {

// A data set as tensors: images N x H x W x 3 (uint8, RGB) and targets,
// either N class labels (int64) or N x H x W label maps (int64).
struct TensorDataset {
  torch::Tensor images;
  torch::Tensor targets;
  int64_t size() const { return images.size(0); }
  TensorDataset slice(int64_t begin, int64_t end) const;
  TensorDataset index(const torch::Tensor& indices) const;
};

// Copies an ImageSet (and, for segmentation, its parallel label maps).
TensorDataset to_tensors(const data::ImageSet& images, const data::ImageSet* label_maps = nullptr);

// uint8 N x H x W x 3 -> float N x 3 x H x W, scaled to [0,1] and normalized
// with the bundle's mean and std, on `device`.
torch::Tensor prepare_input(const torch::Tensor& images_u8, const model::InputSpec& spec, torch::Device device);

// Per-channel mean and std of a uint8 image set, for InputSpec.
void measure_normalization(const torch::Tensor& images_u8, model::InputSpec& spec);

}  // namespace ecotta::train
