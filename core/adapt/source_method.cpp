#include <torch/torch.h>

#include "methods.h"

namespace ecotta::adapt {
namespace {

// The network as trained: source BN statistics, nothing changes.
class SourceMethod : public Method {
 public:
  explicit SourceMethod(model::Bundle& bundle) : bundle_(bundle) {
    bundle_.model->apply_norm_mode(model::NormMode::Source);
    remember_initial_state();
  }
  std::string name() const override { return "source"; }

 protected:
  Step compute(const torch::Tensor& x) override {
    torch::NoGradGuard no_grad;
    return {bundle_.model->forward(x), {}};
  }
  torch::Tensor predict_logits(const torch::Tensor& x) override { return bundle_.model->forward(x); }
  std::vector<torch::Tensor> state() override { return {}; }

 private:
  model::Bundle& bundle_;
};

}  // namespace

std::unique_ptr<Method> make_source_method(model::Bundle& bundle) { return std::make_unique<SourceMethod>(bundle); }

}  // namespace ecotta::adapt
