#include "ecotta_method.h"

#include <stdexcept>

#include <torch/torch.h>

#include "adapted_forward.h"
#include "ecotta_loss.h"

namespace ecotta::adapt {
namespace {

std::vector<torch::Tensor> meta_state(torch::nn::Module& meta) {
  std::vector<torch::Tensor> state;
  for (const auto& p : meta.parameters()) state.push_back(p);
  for (const auto& b : meta.buffers()) state.push_back(b);
  return state;
}

}  // namespace

EcoTtaMethod::EcoTtaMethod(model::Bundle& bundle, const EcoTtaConfig& config) : bundle_(bundle), config_(config) {
  if (!bundle_.meta) throw std::invalid_argument("EcoTTA needs a bundle with warmed-up meta networks (ecotta warmup)");
  model::freeze(*bundle_.model);
  bundle_.model->apply_norm_mode(bundle_.info.normalization);
  model::set_norm_mode(*bundle_.meta, bundle_.info.normalization);
  for (const auto& t : meta_state(*bundle_.meta)) initial_state_.push_back(t.detach().clone());
  reset();
}

std::vector<torch::Tensor> EcoTtaMethod::trainable_parameters() { return bundle_.meta->parameters(); }

void EcoTtaMethod::reset() {
  torch::NoGradGuard no_grad;
  const auto state = meta_state(*bundle_.meta);
  for (size_t i = 0; i < state.size(); ++i) state[i].copy_(initial_state_[i]);
  optimizer_ = std::make_unique<torch::optim::SGD>(
      trainable_parameters(), torch::optim::SGDOptions(config_.lr).momentum(config_.momentum));
}

torch::Tensor EcoTtaMethod::forward_and_adapt(const torch::Tensor& x) {
  std::vector<torch::Tensor> frozen, adapted;
  const auto logits = forward_for_adaptation(*bundle_.model, *bundle_.meta, x, &frozen, &adapted);
  const auto loss = ecotta_loss(logits, frozen, adapted, config_.lambda, config_.entropy_margin);
  optimizer_->zero_grad();
  bool finite = std::isfinite(loss.total.item<double>());
  if (finite) {
    loss.total.backward();
    for (const auto& p : trainable_parameters())
      if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>()) finite = false;
  }
  // A non-finite step never reaches the parameters.
  if (finite)
    optimizer_->step();
  else
    ++skipped_;
  return logits.detach();
}

}  // namespace ecotta::adapt
