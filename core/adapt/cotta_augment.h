#pragma once
#include <torch/types.h>

#include "model/bundle.h"

namespace ecotta::adapt {

// One random augmentation of a normalized input batch, for CoTTA's
// augmentation-averaged teacher: brightness, contrast and gamma jitter,
// a shift of up to 1/16 of the size, a horizontal flip (classification
// only: segmentation needs pixel-aligned outputs) and Gaussian noise
// (std 0.005), in pixel space [0,1]. Like torchvision transforms on a batch
// tensor, one draw applies to the whole batch. Uses torch's global RNG.
torch::Tensor cotta_augment(const torch::Tensor& x, const model::InputSpec& spec, bool geometric);

}  // namespace ecotta::adapt
