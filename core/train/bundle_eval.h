#pragma once
#include <functional>

#include <torch/types.h>

#include "model/bundle.h"
#include "tensor_data.h"

namespace ecotta::train {

// The network of a bundle as a forward function for evaluation: with its
// meta networks when `use_meta` (and present), every BN layer in `norm`.
std::function<torch::Tensor(const torch::Tensor&)> bundle_forward(model::Bundle& bundle, bool use_meta,
                                                                   model::NormMode norm);

// The bundle's clean figure on `data`: accuracy for classification, mIoU for
// segmentation (fractions), evaluated on `device` in batches of `batch`. The
// networks are back on the CPU afterwards.
double evaluate_bundle(model::Bundle& bundle, bool use_meta, model::NormMode norm, const TensorDataset& data,
                       torch::Device device, int64_t batch);

}  // namespace ecotta::train
