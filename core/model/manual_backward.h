#pragma once
#include <array>
#include <tuple>

#include <torch/types.h>

namespace torch::nn {
class Conv2dImpl;
}

namespace ecotta::model {

// Pieces of the hand-written backward passes (frozen WRN blocks, meta
// blocks): the kernels autograd itself calls, without its graph.

// A ReLU's backward needs only where its output was positive: one byte per
// element instead of the four of the activation.
torch::Tensor relu_mask(const torch::Tensor& activation);

// grad *= mask, in place, in one pass. (Multiplying by a bool tensor would
// first convert the mask to a float tensor of the gradient's size;
// masked_fill_ is several times slower on CPU.)
void apply_relu_mask_(torch::Tensor& grad, const torch::Tensor& mask);

// A bias-free, ungrouped convolution's backward: {dL/dinput, dL/dweight},
// each only if asked for in `want`. The input gradient depends on the
// input's shape, not its values: when only it is wanted, `input` may be any
// tensor of that shape.
std::tuple<torch::Tensor, torch::Tensor> conv_backward(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input,
                                                       const torch::Tensor& grad_out, int64_t stride, int64_t padding,
                                                       std::array<bool, 2> want, int64_t dilation = 1);

// conv_backward's input gradient alone.
torch::Tensor conv_input_grad(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input,
                              const torch::Tensor& grad_out, int64_t stride, int64_t padding, int64_t dilation = 1);

}  // namespace ecotta::model
