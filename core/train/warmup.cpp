#include "warmup.h"

#include <torch/torch.h>

namespace ecotta::train {

std::vector<EpochReport> warm_up(model::Bundle& bundle, const TensorDataset& source, const TrainConfig& config,
                                 model::NormMode norm, bool progress) {
  if (!bundle.meta) model::attach_meta_networks(bundle);
  const auto device = parse_device(config.device);
  model::freeze(*bundle.model);
  bundle.model->to(device);
  bundle.meta->to(device);
  TrainTarget target;
  target.forward = [&](const torch::Tensor& x) { return model::forward_with_meta(*bundle.model, *bundle.meta, x); };
  target.parameters = bundle.meta->parameters();
  target.checkpoint_module = bundle.meta.ptr();
  target.enter_training = [&] {
    bundle.model->apply_norm_mode(norm);
    model::set_norm_mode(*bundle.meta, model::NormMode::Train);
  };
  auto reports = train(target, source, bundle.info.input, config, progress);
  bundle.model->to(torch::kCPU);
  bundle.meta->to(torch::kCPU);
  bundle.info.normalization = norm;
  return reports;
}

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

}  // namespace ecotta::train
