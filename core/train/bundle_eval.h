#pragma once
#include <functional>
#include <vector>

#include <torch/types.h>

#include "model/bundle.h"
#include "tensor_data.h"

namespace ecotta::train {

// The network of a bundle as a forward function for evaluation: with its
// meta networks when `use_meta` (and present), every BN layer in `norm`.
std::function<torch::Tensor(const torch::Tensor&)> bundle_forward(model::Bundle& bundle, bool use_meta,
                                                                   model::NormMode norm);

// A bundle's figure on a data set: accuracy for classification, mIoU for
// segmentation (fractions); for segmentation also each class's IoU (NaN for
// a class neither in the labels nor the predictions), in label order, and
// the pixel confusion matrix (rows: truth, columns: prediction).
struct BundleScore {
  double value = 0;
  std::vector<double> class_iou;
  std::vector<std::vector<int64_t>> confusion;
};

// The bundle's figure on `data`, evaluated on `device` in batches of `batch`.
// The networks are back on the CPU afterwards.
BundleScore score_bundle(model::Bundle& bundle, bool use_meta, model::NormMode norm, const TensorDataset& data,
                         torch::Device device, int64_t batch);

// score_bundle's value alone.
double evaluate_bundle(model::Bundle& bundle, bool use_meta, model::NormMode norm, const TensorDataset& data,
                       torch::Device device, int64_t batch);

}  // namespace ecotta::train
