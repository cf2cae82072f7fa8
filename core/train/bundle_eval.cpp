#include "bundle_eval.h"

#include <torch/torch.h>

#include "evaluate.h"

namespace ecotta::train {

std::function<torch::Tensor(const torch::Tensor&)> bundle_forward(model::Bundle& bundle, bool use_meta,
                                                                   model::NormMode norm) {
  if (use_meta && bundle.meta) {
    // Meta BN layers learned running statistics in warm-up; at test time they
    // normalize like the rest of the network (robust: from the bundle's anchor).
    model::apply_meta_norm_mode(bundle, norm);
    return [&bundle](const torch::Tensor& x) { return model::forward_with_meta(*bundle.model, *bundle.meta, x); };
  }
  bundle.model->apply_norm_mode(norm);
  return [&bundle](const torch::Tensor& x) { return bundle.model->forward(x); };
}

BundleScore score_bundle(model::Bundle& bundle, bool use_meta, model::NormMode norm, const TensorDataset& data,
                         torch::Device device, int64_t batch) {
  bundle.model->to(device);
  if (bundle.meta) bundle.meta->to(device);
  const auto fwd = bundle_forward(bundle, use_meta, norm);
  BundleScore score;
  if (bundle.info.task == model::Task::Classify) {
    score.value = accuracy(fwd, data, bundle.info.input, device, batch);
  } else {
    const auto classes = static_cast<int64_t>(bundle.info.labels.size());
    const auto confusion = segmentation_confusion(fwd, data, bundle.info.input, classes, device, batch);
    score.value = mean_iou_from_confusion(confusion);
    score.class_iou = class_ious_from_confusion(confusion);
    const auto rows = confusion.contiguous();
    for (int64_t t = 0; t < classes; ++t) {
      const int64_t* row = rows[t].data_ptr<int64_t>();
      score.confusion.emplace_back(row, row + classes);
    }
  }
  bundle.model->to(torch::kCPU);
  if (bundle.meta) bundle.meta->to(torch::kCPU);
  return score;
}

double evaluate_bundle(model::Bundle& bundle, bool use_meta, model::NormMode norm, const TensorDataset& data,
                       torch::Device device, int64_t batch) {
  return score_bundle(bundle, use_meta, norm, data, device, batch).value;
}

}  // namespace ecotta::train
