#include "meta_block_backward.h"

#include <torch/torch.h>

#include "model/manual_backward.h"

namespace ecotta::adapt {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

std::pair<torch::Tensor, torch::Tensor> run(model::MetaBlockImpl& block, const torch::Tensor& in, const torch::Tensor& frozen) {
  auto adapted = block.forward(in, frozen);
  auto reg = (adapted - frozen.detach()).abs().mean();
  return {adapted, reg};
}

struct MetaStep : public torch::autograd::Function<MetaStep> {
  // `params` are the block's parameters: passing them makes autograd route
  // their gradients through this function.
  static tensor_list forward(AutogradContext* ctx, torch::Tensor part_input, torch::Tensor frozen_output,
                             at::TensorList /*params*/, int64_t block_ptr) {
    ctx->saved_data["block"] = block_ptr;
    ctx->save_for_backward({part_input, frozen_output});
    auto [adapted, reg] = run(*reinterpret_cast<model::MetaBlockImpl*>(block_ptr), part_input, frozen_output);
    return {adapted, reg};
  }

  // By hand, without autograd: recompute the conv path and the output BN
  // from the two inputs, then walk back through them, each intermediate
  // dropped after its last use (about half of what autograd would hold).
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_out) {
    auto& block = *reinterpret_cast<model::MetaBlockImpl*>(ctx->saved_data["block"].toInt());
    const auto saved = ctx->get_saved_variables();
    const auto& in = saved[0];
    const auto& frozen = saved[1];
    torch::NoGradGuard no_grad;
    auto& conv = block.conv_layer();
    auto& conv_bn = block.conv_norm_layer();
    auto& out_bn = block.output_norm_layer();

    model::AdaptiveBatchNorm2dImpl::Saved conv_stats, out_stats;
    auto conv_out = conv.forward(in);
    auto path = conv_bn.forward_for_backward(conv_out, conv_stats).relu_();
    auto g = out_bn.forward_for_backward(frozen, out_stats).add_(path);  // x~, about to become its gradient
    const auto path_on = model::relu_mask(path);
    path = torch::Tensor();
    // d/dx~ of R = mean |x~ - x| is sign(x~ - x) / numel (zero where equal, as autograd's abs).
    const auto numel = static_cast<double>(g.numel());
    g.sub_(frozen).sign_();
    if (grad_out[1].defined()) g.mul_(grad_out[1] / numel);
    else g.zero_();
    if (grad_out[0].defined()) g.add_(grad_out[0]);

    // dL/dx~ flows into both branches: the conv path's copy, masked by its
    // ReLU, and the output BN's, turned in place into dL/dx.
    auto path_grad = g.clone();
    model::apply_relu_mask_(path_grad, path_on);
    auto [out_w, out_b] = out_bn.backward_(frozen, g, out_stats);
    auto frozen_grad = ctx->needs_input_grad(1) ? g : torch::Tensor();
    g = torch::Tensor();
    auto [bn_w, bn_b] = conv_bn.backward_(conv_out, path_grad, conv_stats);
    conv_out = torch::Tensor();
    const int64_t s = block.stride();
    auto [in_grad, conv_w] =
        model::conv_backward(conv, in, path_grad, s, 1, {ctx->needs_input_grad(0), conv.weight.requires_grad()});
    path_grad = torch::Tensor();

    // Gradients in the order forward received its inputs: the two tensors,
    // the parameters (matched by identity), the block pointer.
    const auto params = block.parameters();
    tensor_list result(2 + params.size() + 1);
    result[0] = in_grad;
    result[1] = frozen_grad;
    const std::pair<const torch::Tensor*, torch::Tensor> grads[] = {
        {&out_bn.weight, out_w}, {&out_bn.bias, out_b}, {&conv.weight, conv_w}, {&conv_bn.weight, bn_w}, {&conv_bn.bias, bn_b}};
    for (size_t i = 0; i < params.size(); ++i)
      for (const auto& [param, grad] : grads)
        if (params[i].is_same(*param)) result[2 + i] = grad;
    return result;
  }
};

}  // namespace

std::pair<torch::Tensor, torch::Tensor> meta_block_forward(model::MetaBlockImpl& block, const torch::Tensor& part_input,
                                                           const torch::Tensor& frozen_output) {
  if (!torch::GradMode::is_enabled()) return run(block, part_input, frozen_output);
  const auto params = block.parameters();
  const auto out = MetaStep::apply(part_input, frozen_output, at::TensorList(params), reinterpret_cast<int64_t>(&block));
  return {out[0], out[1]};
}

}  // namespace ecotta::adapt
