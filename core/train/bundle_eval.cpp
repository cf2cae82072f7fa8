#include "bundle_eval.h"

#include <torch/torch.h>

#include "evaluate.h"

namespace ecotta::train {

std::function<torch::Tensor(const torch::Tensor&)> bundle_forward(model::Bundle& bundle, bool use_meta,
                                                                   model::NormMode norm) {
  bundle.model->apply_norm_mode(norm);
  if (use_meta && bundle.meta) {
    // Meta BN layers learned running statistics in warm-up; at test time they
    // normalize like the rest of the network.
    model::set_norm_mode(*bundle.meta, norm);
    return [&bundle](const torch::Tensor& x) { return model::forward_with_meta(*bundle.model, *bundle.meta, x); };
  }
  return [&bundle](const torch::Tensor& x) { return bundle.model->forward(x); };
}

double evaluate_bundle(model::Bundle& bundle, bool use_meta, model::NormMode norm, const TensorDataset& data,
                       torch::Device device, int64_t batch) {
  bundle.model->to(device);
  if (bundle.meta) bundle.meta->to(device);
  const auto fwd = bundle_forward(bundle, use_meta, norm);
  const double value =
      bundle.info.task == model::Task::Classify
          ? accuracy(fwd, data, bundle.info.input, device, batch)
          : mean_iou(fwd, data, bundle.info.input, static_cast<int64_t>(bundle.info.labels.size()), device, batch);
  bundle.model->to(torch::kCPU);
  if (bundle.meta) bundle.meta->to(torch::kCPU);
  return value;
}

}  // namespace ecotta::train
