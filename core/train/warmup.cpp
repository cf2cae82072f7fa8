#include "warmup.h"

#include <stdexcept>

#include <torch/torch.h>

namespace ecotta::train {

std::vector<EpochReport> warm_up(model::Bundle& bundle, const TensorDataset& source, const TrainConfig& config,
                                 model::NormMode norm, bool progress) {
  return warm_up(bundle, [&source](int) { return source; }, config, norm, progress);
}

std::vector<EpochReport> warm_up(model::Bundle& bundle, const EpochData& source, const TrainConfig& config,
                                 model::NormMode norm, bool progress) {
  if (!bundle.meta) model::attach_meta_networks(bundle);
  const auto device = parse_device(config.device);
  model::freeze(*bundle.model);
  // Out of any earlier mode (an evaluation may have left robust statistics
  // from other data): a robust warm-up's EMA starts at the source statistics.
  bundle.model->apply_norm_mode(model::NormMode::Source);
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
  // Robust: the frozen layers' EMA now follows source data through the
  // trained meta networks; robust mode with them starts from here. It is
  // measured while training, so a checkpoint that has already finished
  // (nothing trained now) cannot give it.
  bundle.robust_anchor.clear();
  if (norm == model::NormMode::Robust) {
    if (reports.empty())
      throw std::runtime_error(
          "robust warm-up measures its anchor while it trains, and the checkpoint has already finished: "
          "remove the checkpoint or raise --epochs");
    bundle.robust_anchor = model::copy_robust_statistics(*bundle.model);
  }
  bundle.info.normalization = norm;
  return reports;
}

}  // namespace ecotta::train
