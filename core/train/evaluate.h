#pragma once
#include <functional>
#include <vector>

#include <torch/types.h>

#include "model/bundle.h"
#include "tensor_data.h"

namespace ecotta::train {

using ForwardFn = std::function<torch::Tensor(const torch::Tensor&)>;

// Top-1 accuracy (fraction) of `forward` over a labelled set, without autograd.
double accuracy(const ForwardFn& forward, const TensorDataset& data, const model::InputSpec& spec,
                torch::Device device, int64_t batch = 256);

// The classes x classes pixel confusion matrix (rows: truth, int64) of a
// segmenting `forward` over a labelled set, without autograd.
torch::Tensor segmentation_confusion(const ForwardFn& forward, const TensorDataset& data,
                                     const model::InputSpec& spec, int64_t classes, torch::Device device,
                                     int64_t batch = 64);

// Mean intersection-over-union over the classes that occur in the labels or
// the predictions (a class absent from both is skipped).
double mean_iou(const ForwardFn& forward, const TensorDataset& data, const model::InputSpec& spec,
                int64_t classes, torch::Device device, int64_t batch = 64);

// mIoU from a classes x classes confusion matrix (rows: truth). Exposed for tests.
double mean_iou_from_confusion(const torch::Tensor& confusion);

// Each class's IoU from the confusion matrix; NaN for a class absent from
// both the labels and the predictions. mean_iou_from_confusion is their mean
// over the non-NaN entries.
std::vector<double> class_ious_from_confusion(const torch::Tensor& confusion);

}  // namespace ecotta::train
