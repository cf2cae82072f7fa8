#pragma once
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include "adaptive_batch_norm.h"
#include "block_chain_model.h"

namespace ecotta::model {

// A small DeepLabV3+-style segmenter: a residual encoder (stem + 8 basic
// blocks at output stride 8, the last stage dilated), an ASPP head on the
// deepest features and a decoder that merges the first part's features.
struct SegmenterConfig {
  int64_t classes = 11;                      // background + 10 Fashion-MNIST classes
  int64_t width = 32;                        // channels of the first stage
  std::vector<int64_t> split = {2, 2, 2, 2};  // blocks per part
};

class ResidualBlockImpl : public torch::nn::Module {
 public:
  ResidualBlockImpl(int64_t in, int64_t out, int64_t stride, int64_t dilation);
  torch::Tensor forward(const torch::Tensor& x);
  // dL/dx for a frozen block, recomputed from x without autograd, keeping
  // byte masks for the ReLUs and no graph (as WideBasicBlockImpl::input_grad).
  torch::Tensor input_grad(const torch::Tensor& x, const torch::Tensor& grad_out);

 private:
  int64_t stride_, dilation_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, shortcut_{nullptr};
  AdaptiveBatchNorm2d bn1_{nullptr}, bn2_{nullptr}, shortcut_bn_{nullptr};
};
TORCH_MODULE(ResidualBlock);

// Conv (no bias) + BN + ReLU, the head's building brick.
class ConvBnReluImpl : public torch::nn::Module {
 public:
  ConvBnReluImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation = 1);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv_{nullptr};
  AdaptiveBatchNorm2d bn_{nullptr};
};
TORCH_MODULE(ConvBnRelu);

class Segmenter : public BlockChainModel {
 public:
  explicit Segmenter(const SegmenterConfig& config);

  torch::Tensor stem(const torch::Tensor& x) override;
  torch::Tensor head(const std::vector<torch::Tensor>& parts, const torch::Tensor& input) override;
  Task task() const override { return Task::Segment; }

 protected:
  torch::Tensor run_block(int64_t i, const torch::Tensor& x) override;
  torch::Tensor run_block_input_grad(int64_t i, const torch::Tensor& x, const torch::Tensor& grad_out) override;

 private:
  ConvBnRelu stem_{nullptr};
  ConvBnRelu aspp1_{nullptr}, aspp2_{nullptr}, aspp3_{nullptr}, pool_proj_{nullptr}, aspp_proj_{nullptr};
  ConvBnRelu low_proj_{nullptr}, fuse_{nullptr};
  torch::nn::Conv2d classifier_{nullptr};
};

}  // namespace ecotta::model
