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
  saved.batch_statistics = mode_ == NormMode::Train || mode_ == NormMode::Batch;
  if (saved.batch_statistics) {
    auto [y, mean, invstd] = at::native_batch_norm(x, weight, bias, {}, {}, /*training=*/true, 0.0, eps_);
    saved.mean = mean;
    saved.invstd = invstd;
    return y;
  }
  // Source or Robust: fixed statistics (Robust as the forward left its EMA).
  const bool robust = mode_ == NormMode::Robust;
  saved.mean = (robust ? robust_mean : running_mean).clone();
  saved.var = (robust ? robust_var : running_var).clone();
  saved.invstd = saved.var.add(eps_).rsqrt_();
  return torch::batch_norm(x, weight, bias, robust ? robust_mean : running_mean, robust ? robust_var : running_var,
                           false, 0.0, eps_, false);
}

std::pair<torch::Tensor, torch::Tensor> AdaptiveBatchNorm2dImpl::backward_(const torch::Tensor& x, torch::Tensor& grad,
                                                                           const Saved& saved) const {
  const auto per_channel = [](const torch::Tensor& v) { return v.view({1, -1, 1, 1}); };
  // dL/dweight = sum g x^ and dL/dbias = sum g (x^ = (x - mean) * invstd):
  // autograd's kernel, asked for these two only, allocates nothing big.
  auto [unused, weight_grad, bias_grad] =
      saved.batch_statistics
          ? at::native_batch_norm_backward(grad, x, weight, {}, {}, saved.mean, saved.invstd, /*train=*/true, eps_,
                                           {false, true, true})
          : at::native_batch_norm_backward(grad, x, weight, saved.mean, saved.var, {}, {}, /*train=*/false, eps_,
                                           {false, true, true});
  const auto scale = weight * saved.invstd;
  if (!saved.batch_statistics) {
    grad.mul_(per_channel(scale));  // fixed statistics: an affine map per channel
    return {weight_grad, bias_grad};
  }
  // Batch statistics: dL/dx = scale * (g - mean(g) - x^ * mean(g x^)), written
  // as g * scale - x * k + c with per-channel k and c.
  const double m = static_cast<double>(x.numel() / x.size(1));
  const auto k = scale * saved.invstd * weight_grad / m;
  const auto c = scale * (saved.mean * saved.invstd * weight_grad - bias_grad) / m;
  grad.mul_(per_channel(scale)).addcmul_(x, per_channel(-k)).add_(per_channel(c));
  return {weight_grad, bias_grad};
}

namespace {

std::vector<AdaptiveBatchNorm2dImpl*> norm_layers(torch::nn::Module& module) {
  std::vector<AdaptiveBatchNorm2dImpl*> out;
  // modules(false): the top module may live on the stack, not in a shared_ptr.
  if (auto* self = module.as<AdaptiveBatchNorm2dImpl>()) out.push_back(self);
  for (auto& m : module.modules(/*include_self=*/false))
    if (auto* bn = m->as<AdaptiveBatchNorm2dImpl>()) out.push_back(bn);
  return out;
}

}  // namespace

void set_norm_mode(torch::nn::Module& module, NormMode mode) {
  for (auto* bn : norm_layers(module)) {
    // Entering Robust, the EMA starts at the source statistics: a bundle's
    // robust buffers hold whatever training left there (the initial 0 and
    // 1), which would normalize every layer wrongly until the EMA caught up.
    if (mode == NormMode::Robust && bn->mode() != NormMode::Robust) bn->reset_robust_stats();
    bn->set_mode(mode);
  }
}

std::vector<torch::Tensor> copy_robust_statistics(torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (auto* bn : norm_layers(module)) {
    out.push_back(bn->robust_mean.detach().clone());
    out.push_back(bn->robust_var.detach().clone());
  }
  return out;
}

void check_robust_statistics(torch::nn::Module& module, const std::vector<torch::Tensor>& stats) {
  const auto layers = norm_layers(module);
  if (stats.size() != 2 * layers.size())
    throw std::invalid_argument("robust statistics for " + std::to_string(stats.size() / 2) +
                                " BN layers, the network has " + std::to_string(layers.size()));
  for (size_t i = 0; i < layers.size(); ++i)
    for (int j = 0; j < 2; ++j)
      if (stats[2 * i + j].sizes() != layers[i]->robust_mean.sizes())
        throw std::invalid_argument("robust statistics of BN layer " + std::to_string(i) + " have " +
                                    std::to_string(stats[2 * i + j].numel()) + " channels, the layer " +
                                    std::to_string(layers[i]->channels()));
}

void set_robust_statistics(torch::nn::Module& module, const std::vector<torch::Tensor>& stats) {
  check_robust_statistics(module, stats);
  const auto layers = norm_layers(module);
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i]->robust_mean.copy_(stats[2 * i]);
    layers[i]->robust_var.copy_(stats[2 * i + 1]);
  }
}

NormMode current_norm_mode(torch::nn::Module& module) {
  const auto layers = norm_layers(module);
  return layers.empty() ? NormMode::Source : layers.front()->mode();
}

}  // namespace ecotta::model
