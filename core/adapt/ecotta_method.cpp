#include "ecotta_method.h"

#include <stdexcept>

#include <torch/torch.h>

#include "adapted_forward.h"
#include "block_input_plan.h"
#include "ecotta_loss.h"
#include "model_utils.h"

namespace ecotta::adapt {
namespace {

std::vector<int64_t> part_output_floats(model::Bundle& bundle) {
  std::vector<int64_t> floats;
  for (const auto& s : model::probe_part_shapes(*bundle.model, bundle.info.input.height, bundle.info.input.width))
    floats.push_back(s.out_floats());
  return floats;
}

}  // namespace

namespace {
void check_first_trained_part(size_t part, size_t parts) {
  if (part >= parts)
    throw std::invalid_argument("EcoTTA: first_trained_part " + std::to_string(part) + " leaves none of the " +
                                std::to_string(parts) + " parts to train");
}
}  // namespace

EcoTtaMethod::EcoTtaMethod(model::Bundle& bundle, const EcoTtaConfig& config) : bundle_(bundle), config_(config) {
  if (!bundle_.meta) throw std::invalid_argument("EcoTTA needs a bundle with warmed-up meta networks (ecotta warmup)");
  check_first_trained_part(config_.first_trained_part, bundle_.meta->size());
  // Probing the part shapes costs a forward: only when the plan is left to us.
  if (config_.keep_every.empty()) {
    keep_every_ = default_keep_every(part_output_floats(bundle_));
  } else {
    check_keep_every(config_.keep_every, bundle_.model->num_parts());
    keep_every_ = config_.keep_every;
  }
  model::freeze(*bundle_.model);
  model::apply_meta_norm_mode(bundle_, bundle_.info.normalization);
  for (size_t k = 0; k < bundle_.meta->size(); ++k) set_trainable(bundle_.meta->block(k), k >= config_.first_trained_part);
  reset_rule().configure({});
  remember_initial_state();
}

void EcoTtaMethod::set_first_trained_part(size_t part) {
  check_first_trained_part(part, bundle_.meta->size());
  if (part == config_.first_trained_part) return;
  config_.first_trained_part = part;
  for (size_t k = 0; k < bundle_.meta->size(); ++k) set_trainable(bundle_.meta->block(k), k >= part);
  restart_optimizer();  // its parameter list is the trained parts'
}

std::vector<torch::Tensor> EcoTtaMethod::trainable_parameters() {
  std::vector<torch::Tensor> out;
  for (size_t k = config_.first_trained_part; k < bundle_.meta->size(); ++k)
    for (const auto& p : bundle_.meta->block(k).parameters()) out.push_back(p);
  return out;
}

std::vector<torch::Tensor> EcoTtaMethod::state() {
  auto s = parameters_and_buffers(*bundle_.meta);
  // Robust BN layers of the frozen network move their test-statistics EMA:
  // statistics, not weights, and part of what adaptation changes.
  if (bundle_.info.normalization == model::NormMode::Robust)
    for (const auto& b : bundle_.model->buffers()) s.push_back(b);
  return s;
}

std::unique_ptr<torch::optim::Optimizer> EcoTtaMethod::make_optimizer() {
  return std::make_unique<torch::optim::SGD>(trainable_parameters(),
                                             torch::optim::SGDOptions(config_.lr).momentum(config_.momentum));
}

int64_t EcoTtaMethod::extra_persistent_bytes() { return tensor_bytes(parameters_and_buffers(*bundle_.meta)); }

torch::Tensor EcoTtaMethod::predict_logits(const torch::Tensor& x) {
  return model::forward_with_meta(*bundle_.model, *bundle_.meta, x);
}

Method::Step EcoTtaMethod::compute(const torch::Tensor& x) {
  auto f = forward_for_adaptation(*bundle_.model, *bundle_.meta, x, config_.first_trained_part, keep_every_);
  auto loss = ecotta_loss_with_terms(f.logits, f.regularizers, config_.lambda, config_.entropy_margin,
                                     config_.class_balanced);
  return {f.logits, loss.total};
}

}  // namespace ecotta::adapt
