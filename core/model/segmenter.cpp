#include "segmenter.h"

#include <torch/torch.h>

#include "manual_backward.h"

namespace ecotta::model {
namespace {

namespace F = torch::nn::functional;

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t dilation = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding(dilation * (kernel / 2))
                               .dilation(dilation)
                               .bias(false));
}

torch::Tensor resize_to(const torch::Tensor& x, const torch::Tensor& like) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{like.size(2), like.size(3)})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

}  // namespace

ResidualBlockImpl::ResidualBlockImpl(int64_t in, int64_t out, int64_t stride, int64_t dilation)
    : stride_(stride), dilation_(dilation) {
  conv1_ = register_module("conv1", conv(in, out, 3, stride, dilation));
  bn1_ = register_module("bn1", AdaptiveBatchNorm2d(out));
  conv2_ = register_module("conv2", conv(out, out, 3, 1, dilation));
  bn2_ = register_module("bn2", AdaptiveBatchNorm2d(out));
  if (in != out || stride != 1) {
    shortcut_ = register_module("shortcut", conv(in, out, 1, stride));
    shortcut_bn_ = register_module("shortcut_bn", AdaptiveBatchNorm2d(out));
  }
}

torch::Tensor ResidualBlockImpl::forward(const torch::Tensor& x) {
  auto out = torch::relu(bn1_(conv1_(x)));
  out = bn2_(conv2_(out));
  return torch::relu(out + (shortcut_ ? shortcut_bn_(shortcut_(x)) : x));
}

torch::Tensor ResidualBlockImpl::input_grad(const torch::Tensor& x, const torch::Tensor& grad_out) {
  torch::NoGradGuard no_grad;
  AdaptiveBatchNorm2dImpl::Saved s1, s2, s3;
  auto h1 = conv1_(x);
  auto a = bn1_->forward_for_backward(h1, s1).relu_();
  const auto a_on = relu_mask(a);
  auto h2 = conv2_(a);
  a = torch::Tensor();
  auto out = bn2_->forward_for_backward(h2, s2);
  torch::Tensor hs;
  if (shortcut_) {
    hs = shortcut_(x);
    out.add_(shortcut_bn_->forward_for_backward(hs, s3));
  } else {
    out.add_(x);
  }
  // Through the last ReLU, then into both branches.
  auto g = grad_out.clone();
  apply_relu_mask_(g, relu_mask(out));
  out = torch::Tensor();
  torch::Tensor g_short;
  if (shortcut_) {
    auto gs = g.clone();
    shortcut_bn_->backward_(hs, gs, s3);
    hs = torch::Tensor();
    g_short = conv_input_grad(*shortcut_, x, gs, stride_, 0);
  } else {
    g_short = g.clone();
  }
  bn2_->backward_(h2, g, s2);
  h2 = torch::Tensor();
  // A convolution's input gradient needs only its input's shape: h1 has a's.
  g = conv_input_grad(*conv2_, h1, g, 1, dilation_, dilation_);
  apply_relu_mask_(g, a_on);
  bn1_->backward_(h1, g, s1);
  h1 = torch::Tensor();
  g = conv_input_grad(*conv1_, x, g, stride_, dilation_, dilation_);
  return g.add_(g_short);
}

ConvBnReluImpl::ConvBnReluImpl(int64_t in, int64_t out, int64_t kernel, int64_t dilation) {
  conv_ = register_module("conv", conv(in, out, kernel, 1, dilation));
  bn_ = register_module("bn", AdaptiveBatchNorm2d(out));
}

torch::Tensor ConvBnReluImpl::forward(const torch::Tensor& x) { return torch::relu(bn_(conv_(x))); }

Segmenter::Segmenter(const SegmenterConfig& config) {
  const int64_t w = config.width;
  // Stem at stride 2; stages at stride 1, 2, 2 and a dilated stride-1 stage.
  stem_ = register_module("stem", ConvBnRelu(3, w, 3));
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  const int64_t widths[] = {w, 2 * w, 4 * w, 4 * w};
  const int64_t strides[] = {1, 2, 2, 1};
  const int64_t dilations[] = {1, 1, 1, 2};
  int64_t in = w;
  for (int s = 0; s < 4; ++s)
    for (int i = 0; i < 2; ++i) {
      blocks_->push_back(ResidualBlock(in, widths[s], i == 0 ? strides[s] : 1, dilations[s]));
      in = widths[s];
    }
  set_partition(config.split, "segmenter");

  const int64_t deep = widths[3], mid = 2 * w;
  aspp1_ = register_module("aspp1", ConvBnRelu(deep, mid, 1));
  aspp2_ = register_module("aspp2", ConvBnRelu(deep, mid, 3, 2));
  aspp3_ = register_module("aspp3", ConvBnRelu(deep, mid, 3, 4));
  pool_proj_ = register_module("pool_proj", ConvBnRelu(deep, mid, 1));
  aspp_proj_ = register_module("aspp_proj", ConvBnRelu(4 * mid, mid, 1));
  low_proj_ = register_module("low_proj", ConvBnRelu(w, w / 2, 1));
  fuse_ = register_module("fuse", ConvBnRelu(mid + w / 2, mid, 3));
  classifier_ = register_module("classifier", torch::nn::Conv2d(torch::nn::Conv2dOptions(mid, config.classes, 1)));
  for (auto& m : modules(false))
    if (auto* c = m->as<torch::nn::Conv2dImpl>()) torch::nn::init::kaiming_normal_(c->weight, 0, torch::kFanOut);
}

torch::Tensor Segmenter::stem(const torch::Tensor& x) { return F::max_pool2d(stem_(x), F::MaxPool2dFuncOptions(2)); }

torch::Tensor Segmenter::run_block(int64_t i, const torch::Tensor& x) { return blocks_[i]->as<ResidualBlock>()->forward(x); }

torch::Tensor Segmenter::run_block_input_grad(int64_t i, const torch::Tensor& x, const torch::Tensor& grad_out) {
  return blocks_[i]->as<ResidualBlock>()->input_grad(x, grad_out);
}

torch::Tensor Segmenter::head(const std::vector<torch::Tensor>& parts, const torch::Tensor& input) {
  const auto& deep = parts.back();
  // The image-pooling branch: pooled to 1x1, its BN sees one value per map,
  // so it is broadcast back before normalization would matter.
  auto pooled = pool_proj_(F::adaptive_avg_pool2d(deep, F::AdaptiveAvgPool2dFuncOptions(1))
                               .expand_as(deep)
                               .contiguous(deep.suggest_memory_format()));
  auto aspp = aspp_proj_(torch::cat({aspp1_(deep), aspp2_(deep), aspp3_(deep), pooled}, 1));
  // The first part's output is at stride 2 here; the decoder works there.
  const auto& low = parts.front();
  auto h = fuse_(torch::cat({resize_to(aspp, low), low_proj_(low)}, 1));
  return resize_to(classifier_(h), input);
}

}  // namespace ecotta::model
