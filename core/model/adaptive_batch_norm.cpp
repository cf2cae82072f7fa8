#include "adaptive_batch_norm.h"

#include <stdexcept>

#include <torch/torch.h>

namespace ecotta::model {

NormMode parse_norm_mode(const std::string& name) {
  if (name == "train") return NormMode::Train;
  if (name == "source") return NormMode::Source;
  if (name == "batch") return NormMode::Batch;
  if (name == "robust") return NormMode::Robust;
  throw std::invalid_argument("unknown normalization mode '" + name + "' (expected train, source, batch or robust)");
}

std::string to_string(NormMode mode) {
  switch (mode) {
    case NormMode::Train: return "train";
    case NormMode::Source: return "source";
    case NormMode::Batch: return "batch";
    case NormMode::Robust: return "robust";
  }
  return "?";
}

namespace {
thread_local int t_freeze_depth = 0;
}

FreezeRobustStats::FreezeRobustStats() { ++t_freeze_depth; }
FreezeRobustStats::~FreezeRobustStats() { --t_freeze_depth; }
bool FreezeRobustStats::active() { return t_freeze_depth > 0; }

AdaptiveBatchNorm2dImpl::AdaptiveBatchNorm2dImpl(int64_t channels, double eps, double momentum)
    : eps_(eps), momentum_(momentum) {
  weight = register_parameter("weight", torch::ones({channels}));
  bias = register_parameter("bias", torch::zeros({channels}));
  running_mean = register_buffer("running_mean", torch::zeros({channels}));
  running_var = register_buffer("running_var", torch::ones({channels}));
  robust_mean = register_buffer("robust_mean", torch::zeros({channels}));
  robust_var = register_buffer("robust_var", torch::ones({channels}));
}

void AdaptiveBatchNorm2dImpl::reset_robust_stats() {
  torch::NoGradGuard no_grad;
  robust_mean.copy_(running_mean);
  robust_var.copy_(running_var);
}

torch::Tensor AdaptiveBatchNorm2dImpl::forward(const torch::Tensor& x) {
  switch (mode_) {
    case NormMode::Train:
      return torch::batch_norm(x, weight, bias, running_mean, running_var, true, momentum_, eps_, false);
    case NormMode::Source:
      return torch::batch_norm(x, weight, bias, running_mean, running_var, false, 0.0, eps_, false);
    case NormMode::Batch:
      return torch::batch_norm(x, weight, bias, {}, {}, true, 0.0, eps_, false);
    case NormMode::Robust: {
      if (!FreezeRobustStats::active()) {
        // Statistics are estimates, not a path for gradients (as in RoTTA).
        torch::NoGradGuard no_grad;
        const auto xd = x.detach();
        const auto mean = xd.mean({0, 2, 3});
        const auto n = xd.numel() / xd.size(1);
        auto var = xd.var({0, 2, 3}, /*unbiased=*/n > 1);
        robust_mean.mul_(1.0 - robust_momentum_).add_(mean, robust_momentum_);
        robust_var.mul_(1.0 - robust_momentum_).add_(var, robust_momentum_);
      }
      return torch::batch_norm(x, weight, bias, robust_mean, robust_var, false, 0.0, eps_, false);
    }
  }
  throw std::logic_error("AdaptiveBatchNorm2d: bad mode");
}

torch::Tensor AdaptiveBatchNorm2dImpl::forward_for_backward(const torch::Tensor& x, Saved& saved) {
  saved = Saved{};
  if (mode_ == NormMode::Train || mode_ == NormMode::Batch) {
    auto [y, mean, invstd] = at::native_batch_norm(x, weight, bias, {}, {}, /*training=*/true, 0.0, eps_);
    saved.mean = mean;
    saved.invstd = invstd;
    return y;
  }
  // Source or Robust: fixed statistics (Robust as the forward left its EMA).
  const bool robust = mode_ == NormMode::Robust;
  saved.fixed_mean = robust ? robust_mean : running_mean;
  saved.fixed_var = robust ? robust_var : running_var;
  return torch::batch_norm(x, weight, bias, saved.fixed_mean, saved.fixed_var, false, 0.0, eps_, false);
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> AdaptiveBatchNorm2dImpl::backward(
    const torch::Tensor& x, const torch::Tensor& grad_out, const Saved& saved, std::array<bool, 3> mask) const {
  // The kernels autograd itself calls for batch_norm's backward.
  if (saved.mean.defined())
    return at::native_batch_norm_backward(grad_out, x, weight, {}, {}, saved.mean, saved.invstd, /*train=*/true, eps_,
                                          mask);
  return at::native_batch_norm_backward(grad_out, x, weight, saved.fixed_mean, saved.fixed_var, {}, {},
                                        /*train=*/false, eps_, mask);
}

void set_norm_mode(torch::nn::Module& module, NormMode mode) {
  // modules(false): the top module may live on the stack, not in a shared_ptr.
  if (auto* self = module.as<AdaptiveBatchNorm2dImpl>()) self->set_mode(mode);
  for (auto& m : module.modules(/*include_self=*/false))
    if (auto* bn = m->as<AdaptiveBatchNorm2dImpl>()) bn->set_mode(mode);
}

}  // namespace ecotta::model
