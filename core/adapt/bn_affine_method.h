#pragma once
#include <string>
#include <vector>

#include <torch/optim/adam.h>

#include "method.h"
#include "model/bundle.h"
#include "model_utils.h"

namespace ecotta::adapt {

// What Tent and EATA share: BN layers normalize with test statistics, only
// their affine parameters train, with Adam; the adapted state is those
// parameters and the network's BN buffers. Derived constructors finish
// their own set-up and then call remember_initial_state().
class BnAffineMethod : public Method {
 public:
  std::vector<torch::Tensor> trainable_parameters() override { return params_; }

 protected:
  BnAffineMethod(model::Bundle& bundle, model::NormMode norm, double lr, const std::string& method)
      : bundle_(bundle), lr_(lr) {
    bundle_.model->apply_norm_mode(norm);
    params_ = batch_norm_affine(*bundle_.model, method);
    for (auto& p : params_) p.set_requires_grad(true);
  }
  torch::Tensor predict_logits(const torch::Tensor& x) override { return bundle_.model->forward(x); }
  std::vector<torch::Tensor> state() override {
    auto s = params_;
    for (const auto& b : bundle_.model->buffers()) s.push_back(b);
    return s;
  }
  std::unique_ptr<torch::optim::Optimizer> make_optimizer() override {
    return std::make_unique<torch::optim::Adam>(params_, torch::optim::AdamOptions(lr_));
  }
  int64_t optimizer_slots() const override { return 2; }

  model::Bundle& bundle_;
  double lr_;
  std::vector<torch::Tensor> params_;
};

}  // namespace ecotta::adapt
