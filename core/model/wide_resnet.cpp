#include "wide_resnet.h"

#include <stdexcept>

#include <torch/torch.h>

#include "manual_backward.h"

namespace ecotta::model {
namespace {

torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

}  // namespace

WideBasicBlockImpl::WideBasicBlockImpl(int64_t in, int64_t out, int64_t stride)
    : equal_in_out_(in == out), stride_(stride) {
  bn1_ = register_module("bn1", AdaptiveBatchNorm2d(in));
  conv1_ = register_module("conv1", conv3x3(in, out, stride));
  bn2_ = register_module("bn2", AdaptiveBatchNorm2d(out));
  conv2_ = register_module("conv2", conv3x3(out, out, 1));
  if (!equal_in_out_)
    shortcut_ = register_module(
        "shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 1).stride(stride).bias(false)));
}

torch::Tensor WideBasicBlockImpl::forward(const torch::Tensor& x) {
  // In place where autograd allows it (BN and conv backward need their
  // inputs, never their outputs) and each intermediate released as soon as
  // it is used: a block's forward holds about half the memory it would
  // with fresh tensors at every step. Same arithmetic, same results.
  auto a = bn1_(x);
  a.relu_();
  // As in the reference WRN: a projected shortcut starts from the activated input.
  const auto shortcut = equal_in_out_ ? x : shortcut_(a);
  auto out = conv1_(a);
  a = torch::Tensor();
  out = bn2_(out);
  out.relu_();
  out = conv2_(out);
  return out.add_(shortcut);
}

torch::Tensor WideBasicBlockImpl::input_grad(const torch::Tensor& x, const torch::Tensor& grad_out) {
  torch::NoGradGuard no_grad;
  AdaptiveBatchNorm2dImpl::Saved s1, s2;
  auto a = bn1_->forward_for_backward(x, s1).relu_();
  auto h = conv1_(a);
  // ReLUs keep byte masks (manual_backward.h). The convolutions' input gradients
  // need only shapes (x has a's, h has b's): neither activation is kept.
  const auto a_on = relu_mask(a);
  a = torch::Tensor();
  auto b_on = relu_mask(bn2_->forward_for_backward(h, s2));  // relu(b) > 0 exactly where b > 0
  auto g = conv_input_grad(*conv2_, h, grad_out, 1, 1);
  apply_relu_mask_(g, b_on);
  b_on = torch::Tensor();
  bn2_->backward_(h, g, s2);
  h = torch::Tensor();
  g = conv_input_grad(*conv1_, x, g, stride_, 1);
  if (!equal_in_out_) g.add_(conv_input_grad(*shortcut_, x, grad_out, stride_, 0));
  apply_relu_mask_(g, a_on);
  bn1_->backward_(x, g, s1);
  if (equal_in_out_) g.add_(grad_out);
  return g;
}

WideResNet::WideResNet(const WideResNetConfig& config) {
  if ((config.depth - 4) % 6 != 0 || config.depth < 10)
    throw std::invalid_argument("WideResNet depth must be 6n+4 (e.g. 16, 28, 40), got " +
                                std::to_string(config.depth));
  if (config.widen < 1 || config.classes < 2)
    throw std::invalid_argument("WideResNet needs widen >= 1 and at least 2 classes");
  const int64_t n = (config.depth - 4) / 6;
  const int64_t widths[] = {16, 16 * config.widen, 32 * config.widen, 64 * config.widen};
  conv1_ = register_module("conv1", conv3x3(3, widths[0], 1));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (int g = 0; g < 3; ++g)
    for (int64_t i = 0; i < n; ++i)
      blocks_->push_back(WideBasicBlock(i == 0 ? widths[g] : widths[g + 1], widths[g + 1], (i == 0 && g > 0) ? 2 : 1));
  bn_ = register_module("bn", AdaptiveBatchNorm2d(widths[3]));
  fc_ = register_module("fc", torch::nn::Linear(widths[3], config.classes));

  set_partition(config.split, "WRN-" + std::to_string(config.depth) + "-" +
                                                     std::to_string(config.widen));

  // He initialisation for convolutions, as in the reference implementation.
  for (auto& m : modules(false))
    if (auto* conv = m->as<torch::nn::Conv2dImpl>()) torch::nn::init::kaiming_normal_(conv->weight, 0, torch::kFanOut);
  torch::NoGradGuard no_grad;
  fc_->bias.zero_();
}

torch::Tensor WideResNet::stem(const torch::Tensor& x) { return conv1_(x); }

torch::Tensor WideResNet::run_block(int64_t i, const torch::Tensor& x) { return blocks_[i]->as<WideBasicBlock>()->forward(x); }

torch::Tensor WideResNet::run_block_input_grad(int64_t i, const torch::Tensor& x, const torch::Tensor& grad_out) {
  return blocks_[i]->as<WideBasicBlock>()->input_grad(x, grad_out);
}

torch::Tensor WideResNet::head(const std::vector<torch::Tensor>& parts, const torch::Tensor&) {
  auto h = bn_(parts.back());
  h.relu_();
  h = torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);
  return fc_(h);
}

}  // namespace ecotta::model
