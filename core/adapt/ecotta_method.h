#pragma once
#include <memory>

#include <torch/optim/sgd.h>

#include "method.h"
#include "model/bundle.h"

namespace ecotta::adapt {

// EcoTTA as published: the network frozen, only the K meta networks train,
// by SGD (lr 5e-3, momentum 0.9) on entropy of confident samples plus
// lambda (0.5) times the self-distilled L1 regularizer. Frozen parts are
// recomputed during backward (frozen_part_backward.h), so a step stores
// little more than the meta networks' own activations.
struct EcoTtaConfig {
  double lr = 5e-3;
  double momentum = 0.9;
  double lambda = 0.5;
  double entropy_margin = 0.4;  // H0 = margin * ln(C)
};

class EcoTtaMethod : public Method {
 public:
  // The bundle must hold warmed-up meta networks; all its BN layers
  // normalize in the bundle's test-time mode.
  EcoTtaMethod(model::Bundle& bundle, const EcoTtaConfig& config);

  std::string name() const override { return "ecotta"; }
  torch::Tensor forward_and_adapt(const torch::Tensor& x) override;
  std::vector<torch::Tensor> trainable_parameters() override;
  void reset() override;

  // Steps skipped because the loss or a gradient was not finite.
  int64_t skipped_steps() const { return skipped_; }

 private:
  model::Bundle& bundle_;
  EcoTtaConfig config_;
  std::unique_ptr<torch::optim::SGD> optimizer_;
  std::vector<torch::Tensor> initial_state_;  // meta parameters and buffers at construction
  int64_t skipped_ = 0;
};

}  // namespace ecotta::adapt
