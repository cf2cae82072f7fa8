#include "frozen_part_backward.h"

#include <torch/torch.h>

#include "block_input_plan.h"
#include "model/adaptive_batch_norm.h"

namespace ecotta::adapt {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

model::PartitionedModel* model_of(AutogradContext* ctx) {
  return reinterpret_cast<model::PartitionedModel*>(ctx->saved_data["model"].toInt());
}

// Recomputes `run` on fresh leaves made from `inputs` and returns the
// gradients of its output with respect to those inputs.
template <typename Run>
tensor_list recompute_grads(const tensor_list& inputs, const torch::Tensor& grad_out, Run run) {
  tensor_list leaves;
  // Saved variables come back without their requires_grad flag: every
  // floating input becomes a leaf that takes a gradient (unused ones get none).
  for (const auto& t : inputs) leaves.push_back(t.detach().requires_grad_(t.is_floating_point()));
  torch::AutoGradMode enable(true);
  model::FreezeRobustStats no_double_count;
  const auto out = run(leaves);
  tensor_list wanted;
  std::vector<size_t> where;
  for (size_t i = 0; i < leaves.size(); ++i)
    if (leaves[i].requires_grad()) {
      wanted.push_back(leaves[i]);
      where.push_back(i);
    }
  tensor_list grads(inputs.size());
  if (wanted.empty()) return grads;
  const auto g = torch::autograd::grad({out}, wanted, {grad_out}, /*retain_graph=*/false, /*create_graph=*/false,
                                       /*allow_unused=*/true);
  for (size_t j = 0; j < where.size(); ++j) grads[where[j]] = g[j];
  return grads;
}

struct FrozenPart : public torch::autograd::Function<FrozenPart> {
  static torch::Tensor forward(AutogradContext* ctx, torch::Tensor input, int64_t model_ptr, int64_t k,
                               int64_t keep_every) {
    ctx->saved_data["model"] = model_ptr;
    ctx->saved_data["k"] = k;
    auto* m = reinterpret_cast<model::PartitionedModel*>(model_ptr);
    // Autograd is off inside a custom function's forward: nothing is recorded.
    const size_t n = m->part_blocks(static_cast<size_t>(k));
    // Saved variables cannot be undefined: the kept inputs and their indices.
    tensor_list kept{input};
    std::vector<int64_t> where{0};
    torch::Tensor h = input;
    for (size_t j = 0; j < n; ++j) {
      if (keeps_block_input(keep_every, j)) {
        kept.push_back(h);
        where.push_back(static_cast<int64_t>(j));
      }
      h = m->block(static_cast<size_t>(k), j, h);
    }
    ctx->save_for_backward(kept);
    ctx->saved_data["kept"] = where;
    return h;
  }
  // Takes each block's input gradient, last block to first, so at most one
  // block's activations exist at a time: by the model's hand-written block
  // backward where it has one, else by recomputing the block under
  // autograd. A block input the forward did not keep is recomputed from the
  // nearest kept one before it, without autograd; of the inputs recomputed
  // on the way every other one is kept for the blocks that follow (one
  // block forward more per two blocks, for half the memory).
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_out) {
    auto* m = model_of(ctx);
    const auto k = static_cast<size_t>(ctx->saved_data["k"].toInt());
    const size_t n = m->part_blocks(k);
    std::vector<torch::Tensor> inputs(n);
    {
      const auto kept = ctx->get_saved_variables();
      const auto where = ctx->saved_data["kept"].toIntVector();
      for (size_t i = 0; i < kept.size(); ++i) inputs[static_cast<size_t>(where[i])] = kept[i];
    }
    const auto recompute_input = [&](size_t j) {
      torch::NoGradGuard no_grad;
      model::FreezeRobustStats no_double_count;
      size_t i = j;
      while (!inputs[i].defined()) --i;
      torch::Tensor h = inputs[i];
      for (size_t from = i; from < j; ++from) {
        h = m->block(k, from, h);
        if ((from + 1 - i) % 2 == 0 || from + 1 == j) inputs[from + 1] = h;
      }
    };
    torch::Tensor g = grad_out[0];
    for (size_t j = n; j-- > 0;) {
      if (!inputs[j].defined()) recompute_input(j);
      auto by_hand = m->block_input_grad(k, j, inputs[j], g);
      g = by_hand.defined()
              ? by_hand
              : recompute_grads({inputs[j]}, g, [&](const tensor_list& in) { return m->block(k, j, in[0]); })[0];
      inputs[j] = torch::Tensor();
    }
    return {g, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

struct FrozenHead : public torch::autograd::Function<FrozenHead> {
  // at::TensorList, not std::vector: only the former is unpacked into
  // autograd inputs (a vector would be taken as a non-tensor argument and
  // cut the graph).
  static torch::Tensor forward(AutogradContext* ctx, at::TensorList parts_and_input, int64_t model_ptr) {
    ctx->saved_data["model"] = model_ptr;
    tensor_list all(parts_and_input.begin(), parts_and_input.end());
    ctx->save_for_backward(all);
    const torch::Tensor input = all.back();
    all.pop_back();
    return reinterpret_cast<model::PartitionedModel*>(model_ptr)->head(all, input);
  }
  // Recomputes the head under autograd from its kept inputs.
  static tensor_list backward(AutogradContext* ctx, tensor_list grad_out) {
    auto* m = model_of(ctx);
    auto g = recompute_grads(ctx->get_saved_variables(), grad_out[0], [&](tensor_list in) {
      const auto input = in.back();
      in.pop_back();
      return m->head(in, input);
    });
    g.push_back(torch::Tensor());  // model pointer
    return g;
  }
};

}  // namespace

torch::Tensor frozen_part_forward(model::PartitionedModel& model, size_t k, const torch::Tensor& input,
                                  int64_t keep_every) {
  if (!torch::GradMode::is_enabled() || !input.requires_grad()) return model.part(k, input);
  return FrozenPart::apply(input, reinterpret_cast<int64_t>(&model), static_cast<int64_t>(k), keep_every);
}

torch::Tensor frozen_head_forward(model::PartitionedModel& model, const std::vector<torch::Tensor>& parts,
                                  const torch::Tensor& input) {
  if (!torch::GradMode::is_enabled()) return model.head(parts, input);
  tensor_list all(parts.begin(), parts.end());
  all.push_back(input);
  return FrozenHead::apply(at::TensorList(all), reinterpret_cast<int64_t>(&model));
}

}  // namespace ecotta::adapt
