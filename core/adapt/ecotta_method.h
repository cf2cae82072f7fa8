#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "method.h"
#include "method_defaults.h"
#include "model/bundle.h"

namespace ecotta::adapt {

// EcoTTA as published: the network frozen, only the K meta networks train,
// by SGD (momentum 0.9; the paper's lr 5e-3, here by default the rate
// validated for the batch setting, method_defaults.h) on entropy of confident samples plus
// lambda (0.5) times the self-distilled L1 regularizer. Frozen parts are
// recomputed during backward (frozen_part_backward.h), so a step stores
// little more than the meta networks' own activations.
struct EcoTtaConfig {
  double lr = kBatchRates.ecotta;
  double momentum = 0.9;
  double lambda = 0.5;
  double entropy_margin = 0.4;  // H0 = margin * ln(C)
  bool class_balanced = false;  // entropy averaged per predicted class first (ecotta_loss.h)
  // Meta networks of parts before this one still run but do not train: the
  // memory cap's way to adapt only the deeper parts, whose activations are
  // smallest. 0 = all parts train.
  size_t first_trained_part = 0;
  // Per part, the frozen block inputs the forward keeps so that backward
  // need not recompute them: one block in every keep_every[k] (1: all, 0:
  // none). Empty: by activation size (block_input_plan.h; 0,0,2,1 on WRN-40-2).
  std::vector<int64_t> keep_every;
};

class EcoTtaMethod : public Method {
 public:
  // The bundle must hold warmed-up meta networks; all its BN layers
  // normalize in the bundle's test-time mode.
  EcoTtaMethod(model::Bundle& bundle, const EcoTtaConfig& config);

  std::string name() const override { return "ecotta"; }
  std::vector<torch::Tensor> trainable_parameters() override;
  void set_first_trained_part(size_t part) override;

 protected:
  Step compute(const torch::Tensor& x) override;
  torch::Tensor predict_logits(const torch::Tensor& x) override;
  std::vector<torch::Tensor> state() override;
  std::unique_ptr<torch::optim::Optimizer> make_optimizer() override;
  int64_t optimizer_slots() const override { return config_.momentum > 0 ? 1 : 0; }
  // The meta networks themselves: memory the source model does not need.
  int64_t extra_persistent_bytes() override;

 private:
  model::Bundle& bundle_;
  EcoTtaConfig config_;
  std::vector<int64_t> keep_every_;  // config_.keep_every, resolved once
};

}  // namespace ecotta::adapt
