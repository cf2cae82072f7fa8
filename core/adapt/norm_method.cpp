#include <torch/torch.h>

#include "methods.h"
#include "model/adaptive_batch_norm.h"

namespace ecotta::adapt {
namespace {

// BN statistics adaptation (Schneider et al. 2020, Nado et al. 2020): every
// BN layer normalizes with test statistics -- the batch's, or with robust
// mode an EMA anchored at the source -- and no gradient is taken.
class NormMethod : public Method {
 public:
  NormMethod(model::Bundle& bundle, model::NormMode mode) : bundle_(bundle), mode_(mode) {
    bundle_.model->apply_norm_mode(mode);
    remember_initial_state();
  }
  std::string name() const override { return "norm"; }

 protected:
  Step compute(const torch::Tensor& x) override {
    torch::NoGradGuard no_grad;
    return {bundle_.model->forward(x), {}};
  }
  torch::Tensor predict_logits(const torch::Tensor& x) override { return bundle_.model->forward(x); }
  // Robust mode's EMA statistics are the adapted state; batch mode keeps none.
  std::vector<torch::Tensor> state() override {
    if (mode_ == model::NormMode::Robust) return bundle_.model->buffers();
    return {};
  }

 private:
  model::Bundle& bundle_;
  model::NormMode mode_;
};

}  // namespace

std::unique_ptr<Method> make_norm_method(model::Bundle& bundle, const MethodOptions& options) {
  return std::make_unique<NormMethod>(bundle, options.baseline_norm);
}

}  // namespace ecotta::adapt
