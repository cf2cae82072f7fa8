#include <torch/torch.h>

#include "ecotta_loss.h"
#include "methods.h"
#include "model_utils.h"

namespace ecotta::adapt {
namespace {

// Tent (Wang et al., ICLR 2021), continual: BN layers normalize with test
// statistics, only their affine parameters train, on the mean softmax
// entropy of the batch, with Adam (lr 1e-3, the CIFAR setting). Backward runs
// through the whole network with plain autograd: that is Tent's memory cost.
class TentMethod : public Method {
 public:
  TentMethod(model::Bundle& bundle, const MethodOptions& options) : bundle_(bundle), lr_(options.tent_lr) {
    bundle_.model->apply_norm_mode(options.baseline_norm);
    params_ = batch_norm_affine(*bundle_.model, "tent");
    for (auto& p : params_) p.set_requires_grad(true);
    reset_rule().configure({.enabled = false});
    remember_initial_state();
  }
  std::string name() const override { return "tent"; }
  std::vector<torch::Tensor> trainable_parameters() override { return params_; }

 protected:
  Step compute(const torch::Tensor& x) override {
    auto logits = bundle_.model->forward(x);
    auto loss = softmax_entropy(logits).mean();
    return {logits, loss};
  }
  std::vector<torch::Tensor> state() override {
    auto s = params_;
    for (const auto& b : bundle_.model->buffers()) s.push_back(b);
    return s;
  }
  std::unique_ptr<torch::optim::Optimizer> make_optimizer() override {
    return std::make_unique<torch::optim::Adam>(params_, torch::optim::AdamOptions(lr_));
  }
  int64_t optimizer_slots() const override { return 2; }

 private:
  model::Bundle& bundle_;
  double lr_;
  std::vector<torch::Tensor> params_;
};

}  // namespace

std::unique_ptr<Method> make_tent_method(model::Bundle& bundle, const MethodOptions& options) {
  return std::make_unique<TentMethod>(bundle, options);
}

}  // namespace ecotta::adapt
