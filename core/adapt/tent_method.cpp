#include <torch/torch.h>

#include "bn_affine_method.h"
#include "ecotta_loss.h"
#include "methods.h"

namespace ecotta::adapt {
namespace {

// Tent (Wang et al., ICLR 2021), continual: BN layers normalize with test
// statistics, only their affine parameters train, on the mean softmax
// entropy of the batch, with Adam (lr 1e-3, the CIFAR setting). Backward runs
// through the whole network with plain autograd: that is Tent's memory cost.
class TentMethod : public BnAffineMethod {
 public:
  TentMethod(model::Bundle& bundle, const MethodOptions& options)
      : BnAffineMethod(bundle, options.baseline_norm, options.tent_lr, "tent") {
    remember_initial_state();
  }
  std::string name() const override { return "tent"; }

 protected:
  Step compute(const torch::Tensor& x) override {
    auto logits = bundle_.model->forward(x);
    auto loss = softmax_entropy(logits).mean();
    return {logits, loss};
  }
};

}  // namespace

std::unique_ptr<Method> make_tent_method(model::Bundle& bundle, const MethodOptions& options) {
  return std::make_unique<TentMethod>(bundle, options);
}

}  // namespace ecotta::adapt
