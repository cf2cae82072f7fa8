#pragma once
#include <torch/types.h>

namespace ecotta::model {

// A ReLU's backward needs only where its output was positive: one byte per
// element instead of the four of the activation. Hand-written backward
// passes (frozen blocks, meta blocks) keep these masks.
torch::Tensor relu_mask(const torch::Tensor& activation);

// grad *= mask, in place, in one pass. (Multiplying by a bool tensor would
// first convert the mask to a float tensor of the gradient's size;
// masked_fill_ is several times slower on CPU.)
void apply_relu_mask_(torch::Tensor& grad, const torch::Tensor& mask);

}  // namespace ecotta::model
