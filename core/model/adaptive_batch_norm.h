#pragma once
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "norm_mode.h"

namespace ecotta::model {

// BatchNorm2d whose normalization statistics can come from the source, the
// batch, or an EMA of test batches anchored at the source (RoTTA's robust BN),
// so that a video stream seen one frame at a time does not collapse it.
class AdaptiveBatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit AdaptiveBatchNorm2dImpl(int64_t channels, double eps = 1e-5, double momentum = 0.1);

  torch::Tensor forward(const torch::Tensor& x);

  void set_mode(NormMode mode) { mode_ = mode; }
  NormMode mode() const { return mode_; }
  // Momentum of the Robust EMA (RoTTA uses ~0.05).
  void set_robust_momentum(double m) { robust_momentum_ = m; }
  double robust_momentum() const { return robust_momentum_; }
  // Returns the Robust statistics to the source statistics.
  void reset_robust_stats();

  int64_t channels() const { return weight.size(0); }

  // For a hand-written backward (no autograd): the forward without side
  // effects (no statistics are updated), keeping the statistics it used...
  struct Saved {
    torch::Tensor mean, invstd;
    torch::Tensor var;  // fixed statistics only
    bool batch_statistics = false;
  };
  torch::Tensor forward_for_backward(const torch::Tensor& x, Saved& saved);
  // ...and its backward in place: `grad` (dL/dy, owned by the caller)
  // becomes dL/dx; `x` is only read. Returns dL/dweight and dL/dbias. Holds
  // no temporary the size of x (autograd's kernel allocates dL/dx).
  std::pair<torch::Tensor, torch::Tensor> backward_(const torch::Tensor& x, torch::Tensor& grad, const Saved& saved) const;

  torch::Tensor weight, bias;               // affine parameters
  torch::Tensor running_mean, running_var;  // source statistics (updated in Train mode only)
  torch::Tensor robust_mean, robust_var;    // test-time EMA (Robust mode only)

 private:
  double eps_;
  double momentum_;
  double robust_momentum_ = 0.05;
  NormMode mode_ = NormMode::Source;
};
TORCH_MODULE(AdaptiveBatchNorm2d);

// While one exists on a thread, Robust-mode layers on that thread normalize
// with their current EMA but do not update it: a forward pass that is
// recomputed during backward must not count its batch twice.
class FreezeRobustStats {
 public:
  FreezeRobustStats();
  ~FreezeRobustStats();
  FreezeRobustStats(const FreezeRobustStats&) = delete;
  FreezeRobustStats& operator=(const FreezeRobustStats&) = delete;
  static bool active();
};

// Sets the mode of every AdaptiveBatchNorm2d below `module`; a layer entering
// Robust starts its EMA at its source statistics (reset_robust_stats).
void set_norm_mode(torch::nn::Module& module, NormMode mode);

// The Robust statistics of every AdaptiveBatchNorm2d below `module`, in module
// order, as copies: mean, var, mean, var, ... (empty when it has none).
std::vector<torch::Tensor> copy_robust_statistics(torch::nn::Module& module);
// Throws std::invalid_argument when such copies' number or shapes do not
// match the module's layers.
void check_robust_statistics(torch::nn::Module& module, const std::vector<torch::Tensor>& stats);
// Puts such copies back (after check_robust_statistics).
void set_robust_statistics(torch::nn::Module& module, const std::vector<torch::Tensor>& stats);
// The mode of the first AdaptiveBatchNorm2d below `module` (Source if none).
NormMode current_norm_mode(torch::nn::Module& module);

}  // namespace ecotta::model
