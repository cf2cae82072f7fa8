#pragma once
#include <string>
#include <vector>

#include <torch/types.h>

namespace ecotta::adapt {

// A test-time adaptation method: it states how it configures the model,
// which parameters it trains, and its forward-and-adapt step. Every method
// (source, norm, tent, eata, cotta, ecotta) implements this one interface so
// they are compared on identical plumbing.
class Method {
 public:
  virtual ~Method() = default;
  virtual std::string name() const = 0;
  // Predictions (logits) for the batch; adapts on it as the method does.
  virtual torch::Tensor forward_and_adapt(const torch::Tensor& x) = 0;
  // The parameters the method updates (empty for source and norm).
  virtual std::vector<torch::Tensor> trainable_parameters() = 0;
  // Back to the state the method started from.
  virtual void reset() = 0;
};

}  // namespace ecotta::adapt
