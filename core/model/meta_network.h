#pragma once
#include <vector>

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>

#include "adaptive_batch_norm.h"
#include "partitioned_model.h"

namespace ecotta::model {

// EcoTTA's meta network for one part k of the frozen network:
//   x~_k = BN_k(O_k(x~_{k-1})) + ReLU(BN(Conv3x3(x~_{k-1})))
// The conv block's stride is H_in / H_out and it maps the part's input
// channels to its output channels.
class MetaBlockImpl : public torch::nn::Module {
 public:
  MetaBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride);
  torch::Tensor forward(const torch::Tensor& part_input, const torch::Tensor& frozen_output);
  // The additive conv path alone, and the output BN alone (for recomputation).
  torch::Tensor conv_path(const torch::Tensor& part_input);
  torch::Tensor output_norm(const torch::Tensor& frozen_output);

  // The layers, for a hand-written backward (adapt/meta_block_backward).
  AdaptiveBatchNorm2dImpl& output_norm_layer() { return *out_bn_; }
  torch::nn::Conv2dImpl& conv_layer() { return *conv_; }
  AdaptiveBatchNorm2dImpl& conv_norm_layer() { return *conv_bn_; }
  int64_t stride() const { return stride_; }

 private:
  int64_t stride_;
  AdaptiveBatchNorm2d out_bn_{nullptr};
  torch::nn::Conv2d conv_{nullptr};
  AdaptiveBatchNorm2d conv_bn_{nullptr};
};
TORCH_MODULE(MetaBlock);

// The geometry of one part, found by running the model once.
struct PartShape {
  int64_t in_channels, out_channels;
  int64_t in_height, out_height;
  int64_t out_width;
  int64_t stride() const { return in_height / out_height; }
  int64_t out_floats() const { return out_channels * out_height * out_width; }  // per sample
};
std::vector<PartShape> probe_part_shapes(PartitionedModel& model, int64_t height, int64_t width);

// The K meta networks of a model: their parameters and BN statistics are the
// whole adaptable state of EcoTTA.
class MetaNetworksImpl : public torch::nn::Module {
 public:
  explicit MetaNetworksImpl(const std::vector<PartShape>& shapes);
  size_t size() const { return blocks_->size(); }
  MetaBlockImpl& block(size_t k) { return *blocks_[k]->as<MetaBlock>(); }

 private:
  torch::nn::ModuleList blocks_{nullptr};
};
TORCH_MODULE(MetaNetworks);

// The adapted forward pass: frozen parts with their meta networks.
// When `frozen_outputs` is given it receives each part's frozen output
// x_k = O_k(x~_{k-1}) and `adapted_outputs` each x~_k (for the regularizer).
torch::Tensor forward_with_meta(PartitionedModel& model, MetaNetworksImpl& meta, const torch::Tensor& x,
                                std::vector<torch::Tensor>* frozen_outputs = nullptr,
                                std::vector<torch::Tensor>* adapted_outputs = nullptr);

// Freezes every parameter of the original network (requires_grad = false).
void freeze(torch::nn::Module& module);

}  // namespace ecotta::model
