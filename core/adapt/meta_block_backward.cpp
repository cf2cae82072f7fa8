#include "meta_block_backward.h"

#include <torch/torch.h>

#include "model/adaptive_batch_norm.h"

namespace ecotta::adapt {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

model::MetaBlockImpl* block_of(AutogradContext* ctx) {
  return reinterpret_cast<model::MetaBlockImpl*>(ctx->saved_data["block"].toInt());
}

std::pair<torch::Tensor, torch::Tensor> run(model::MetaBlockImpl& block, const torch::Tensor& in, const torch::Tensor& frozen) {
  auto adapted = block.forward(in, frozen);
  auto reg = (adapted - frozen.detach()).abs().mean();
  return {adapted, reg};
}

struct MetaStep : public torch::autograd::Function<MetaStep> {
  // `params` are the block's parameters: passing them makes autograd route
  // their gradients through this function.
  static tensor_list forward(AutogradContext* ctx, torch::Tensor part_input, torch::Tensor frozen_output,
                             at::TensorList params, int64_t block_ptr) {
    ctx->saved_data["block"] = block_ptr;
    ctx->saved_data["params"] = static_cast<int64_t>(params.size());
    ctx->save_for_backward({part_input, frozen_output});
    auto [adapted, reg] = run(*reinterpret_cast<model::MetaBlockImpl*>(block_ptr), part_input, frozen_output);
    return {adapted, reg};
  }

  static tensor_list backward(AutogradContext* ctx, tensor_list grad_out) {
    auto* block = block_of(ctx);
    const auto saved = ctx->get_saved_variables();
    const auto in = saved[0].detach().requires_grad_(ctx->needs_input_grad(0));
    const auto frozen = saved[1].detach().requires_grad_(ctx->needs_input_grad(1));
    torch::AutoGradMode enable(true);
    model::FreezeRobustStats no_double_count;  // the forward already counted this batch
    auto [adapted, reg] = run(*block, in, frozen);
    tensor_list outputs{adapted, reg}, grads{grad_out[0], grad_out[1]};
    if (!grads[0].defined()) grads[0] = torch::zeros_like(adapted);
    if (!grads[1].defined()) grads[1] = torch::zeros_like(reg);
    tensor_list wanted;
    std::vector<size_t> slot;
    if (in.requires_grad()) wanted.push_back(in), slot.push_back(0);
    if (frozen.requires_grad()) wanted.push_back(frozen), slot.push_back(1);
    const auto params = block->parameters();
    for (size_t i = 0; i < params.size(); ++i)
      if (params[i].requires_grad()) wanted.push_back(params[i]), slot.push_back(2 + i);
    tensor_list result(2 + params.size() + 1);  // inputs, parameters, block pointer
    if (wanted.empty()) return result;
    const auto g = torch::autograd::grad(outputs, wanted, grads, /*retain_graph=*/false, /*create_graph=*/false,
                                         /*allow_unused=*/true);
    for (size_t j = 0; j < wanted.size(); ++j) result[slot[j]] = g[j];
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
