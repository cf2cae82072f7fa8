#pragma once
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include "adaptive_batch_norm.h"
#include "block_chain_model.h"

namespace ecotta::model {

// Pre-activation WideResNet for 32x32 inputs (Zagoruyko & Komodakis), the
// network of the CIFAR TTA benchmarks. WRN-40-2 has 18 residual blocks.
struct WideResNetConfig {
  int64_t depth = 40;
  int64_t widen = 2;
  int64_t classes = 10;
  std::vector<int64_t> split = {3, 3, 6, 6};  // blocks per part
};

class WideBasicBlockImpl : public torch::nn::Module {
 public:
  WideBasicBlockImpl(int64_t in, int64_t out, int64_t stride);
  torch::Tensor forward(const torch::Tensor& x);
  // d forward(x) / dx applied to `grad_out`, without autograd and for a
  // frozen block: recomputes only up to the second convolution's input and
  // keeps no more than the tensors each step of the backward needs.
  torch::Tensor input_grad(const torch::Tensor& x, const torch::Tensor& grad_out);

 private:
  bool equal_in_out_;
  int64_t stride_;
  AdaptiveBatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
};
TORCH_MODULE(WideBasicBlock);

class WideResNet : public BlockChainModel {
 public:
  explicit WideResNet(const WideResNetConfig& config);

  torch::Tensor stem(const torch::Tensor& x) override;
  torch::Tensor head(const std::vector<torch::Tensor>& parts, const torch::Tensor& input) override;
  Task task() const override { return Task::Classify; }

 protected:
  torch::Tensor run_block(int64_t i, const torch::Tensor& x) override;
  torch::Tensor run_block_input_grad(int64_t i, const torch::Tensor& x, const torch::Tensor& grad_out) override;

 private:
  torch::nn::Conv2d conv1_{nullptr};
  AdaptiveBatchNorm2d bn_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

}  // namespace ecotta::model
