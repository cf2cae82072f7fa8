#include "robust_anchor.h"

#include <stdexcept>

#include <torch/torch.h>

namespace ecotta::train {

void measure_robust_anchor(model::Bundle& bundle, const TensorDataset& data, int64_t batch, torch::Device device) {
  if (!bundle.meta) throw std::invalid_argument("a robust anchor belongs to meta networks: warm them up first");
  if (data.size() < batch) throw std::invalid_argument("measuring a robust anchor needs at least one full batch");
  torch::NoGradGuard no_grad;
  bundle.robust_anchor.clear();
  bundle.model->apply_norm_mode(model::NormMode::Source);  // out of any earlier robust state
  bundle.model->apply_norm_mode(model::NormMode::Robust);  // the EMA starts at the source statistics
  model::set_norm_mode(*bundle.meta, model::NormMode::Source);
  bundle.model->to(device);
  bundle.meta->to(device);
  // The mean of every batch's statistics, not an EMA: momentum 1/(i+1) on
  // batch i forgets the source statistics at once and weighs every batch
  // alike, so a few thousand samples give the population statistics.
  std::vector<model::AdaptiveBatchNorm2dImpl*> layers;
  for (const auto& m : bundle.model->modules(/*include_self=*/false))
    if (auto* bn = m->as<model::AdaptiveBatchNorm2dImpl>()) layers.push_back(bn);
  const double ema = layers.empty() ? 0.05 : layers.front()->robust_momentum();
  int64_t i = 0;
  // Full batches only: a short last batch would weigh as much as a full one.
  for (int64_t at = 0; at + batch <= data.size(); at += batch, ++i) {
    for (auto* bn : layers) bn->set_robust_momentum(1.0 / static_cast<double>(i + 1));
    const auto x = prepare_input(data.images.slice(0, at, at + batch), bundle.info.input, device);
    model::forward_with_meta(*bundle.model, *bundle.meta, x);
  }
  for (auto* bn : layers) bn->set_robust_momentum(ema);
  bundle.model->to(torch::kCPU);
  bundle.meta->to(torch::kCPU);
  bundle.robust_anchor = model::copy_robust_statistics(*bundle.model);
  bundle.model->apply_norm_mode(model::NormMode::Source);
}

}  // namespace ecotta::train
