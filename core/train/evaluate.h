#pragma once
#include <functional>

#include <torch/types.h>

#include "model/bundle.h"
#include "tensor_data.h"

namespace ecotta::train {

using ForwardFn = std::function<torch::Tensor(const torch::Tensor&)>;

// Top-1 accuracy (fraction) of `forward` over a labelled set, without autograd.
double accuracy(const ForwardFn& forward, const TensorDataset& data, const model::InputSpec& spec,
                torch::Device device, int64_t batch = 256);

// Mean intersection-over-union over the classes that occur in the labels or
// the predictions (a class absent from both is skipped).
double mean_iou(const ForwardFn& forward, const TensorDataset& data, const model::InputSpec& spec,
                int64_t classes, torch::Device device, int64_t batch = 64);

// mIoU from a classes x classes confusion matrix (rows: truth). Exposed for tests.
double mean_iou_from_confusion(const torch::Tensor& confusion);

}  // namespace ecotta::train
