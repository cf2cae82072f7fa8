#include "manual_backward.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace ecotta::model {

torch::Tensor relu_mask(const torch::Tensor& activation) { return activation.gt(0); }

void apply_relu_mask_(torch::Tensor& grad, const torch::Tensor& mask) {
  if (grad.scalar_type() != torch::kFloat || !grad.is_non_overlapping_and_dense() || grad.strides() != mask.strides() ||
      mask.scalar_type() != torch::kBool || grad.sizes() != mask.sizes() || !grad.device().is_cpu()) {
    grad.mul_(mask);
    return;
  }
  // Multiplying by the mask byte (0 or 1) vectorizes; a select would branch.
  float* g = grad.data_ptr<float>();
  const auto* m = reinterpret_cast<const uint8_t*>(mask.data_ptr<bool>());
  at::parallel_for(0, grad.numel(), 1 << 15, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) g[i] *= static_cast<float>(m[i]);
  });
}

std::tuple<torch::Tensor, torch::Tensor> conv_backward(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input,
                                                       const torch::Tensor& grad_out, int64_t stride, int64_t padding,
                                                       std::array<bool, 2> want, int64_t dilation) {
  auto [input_grad, weight_grad, bias_grad] = at::convolution_backward(
      grad_out, input, conv.weight, c10::nullopt, {stride, stride}, {padding, padding}, {dilation, dilation},
      /*transposed=*/false, {0, 0}, /*groups=*/1, {want[0], want[1], false});
  return {input_grad, weight_grad};
}

torch::Tensor conv_input_grad(const torch::nn::Conv2dImpl& conv, const torch::Tensor& input,
                              const torch::Tensor& grad_out, int64_t stride, int64_t padding, int64_t dilation) {
  return std::get<0>(conv_backward(conv, input, grad_out, stride, padding, {true, false}, dilation));
}

}  // namespace ecotta::model
