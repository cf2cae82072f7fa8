#include "meta_network.h"

#include <stdexcept>

#include <torch/torch.h>

namespace ecotta::model {

MetaBlockImpl::MetaBlockImpl(int64_t in_channels, int64_t out_channels, int64_t stride) : stride_(stride) {
  out_bn_ = register_module("out_bn", AdaptiveBatchNorm2d(out_channels));
  conv_ = register_module(
      "conv", torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(in_channels, out_channels, 3).stride(stride).padding(1).bias(false)));
  conv_bn_ = register_module("conv_bn", AdaptiveBatchNorm2d(out_channels));
  torch::nn::init::kaiming_normal_(conv_->weight, 0, torch::kFanOut);
}

torch::Tensor MetaBlockImpl::conv_path(const torch::Tensor& part_input) {
  return torch::relu(conv_bn_(conv_(part_input)));
}

torch::Tensor MetaBlockImpl::output_norm(const torch::Tensor& frozen_output) { return out_bn_(frozen_output); }

torch::Tensor MetaBlockImpl::forward(const torch::Tensor& part_input, const torch::Tensor& frozen_output) {
  return output_norm(frozen_output) + conv_path(part_input);
}

std::vector<PartShape> probe_part_shapes(PartitionedModel& model, int64_t height, int64_t width) {
  torch::NoGradGuard no_grad;
  // Probe in Source mode so the probe leaves no trace in any statistics.
  std::vector<NormMode> saved;
  for (auto& m : model.modules(false))
    if (auto* bn = m->as<AdaptiveBatchNorm2dImpl>()) saved.push_back(bn->mode());
  set_norm_mode(model, NormMode::Source);
  std::vector<PartShape> shapes;
  auto h = model.stem(torch::zeros({1, 3, height, width}));
  for (size_t k = 0; k < model.num_parts(); ++k) {
    auto out = model.part(k, h);
    if (h.dim() != 4 || out.dim() != 4)
      throw std::invalid_argument("part " + std::to_string(k) + " does not map feature maps to feature maps");
    if (h.size(2) % out.size(2) != 0 || h.size(2) / out.size(2) != h.size(3) / out.size(3))
      throw std::invalid_argument("part " + std::to_string(k) + " changes resolution from " +
                                  std::to_string(h.size(2)) + " to " + std::to_string(out.size(2)) +
                                  ": meta networks need an integer stride");
    shapes.push_back({h.size(1), out.size(1), h.size(2), out.size(2), out.size(3)});
    h = out;
  }
  size_t i = 0;
  for (auto& m : model.modules(false))
    if (auto* bn = m->as<AdaptiveBatchNorm2dImpl>()) bn->set_mode(saved[i++]);
  return shapes;
}

MetaNetworksImpl::MetaNetworksImpl(const std::vector<PartShape>& shapes) {
  blocks_ = register_module("blocks", torch::nn::ModuleList());
  for (const auto& s : shapes) blocks_->push_back(MetaBlock(s.in_channels, s.out_channels, s.stride()));
}

torch::Tensor forward_with_meta(PartitionedModel& model, MetaNetworksImpl& meta, const torch::Tensor& x,
                                std::vector<torch::Tensor>* frozen_outputs,
                                std::vector<torch::Tensor>* adapted_outputs) {
  if (meta.size() != model.num_parts())
    throw std::invalid_argument("the model has " + std::to_string(model.num_parts()) + " parts but " +
                                std::to_string(meta.size()) + " meta networks are attached");
  std::vector<torch::Tensor> adapted;
  auto h = model.stem(x);
  for (size_t k = 0; k < model.num_parts(); ++k) {
    auto frozen = model.part(k, h);
    h = meta.block(k).forward(h, frozen);
    if (frozen_outputs) frozen_outputs->push_back(frozen);
    adapted.push_back(h);
  }
  auto out = model.head(adapted, x);
  if (adapted_outputs) *adapted_outputs = std::move(adapted);
  return out;
}

void freeze(torch::nn::Module& module) {
  for (auto& p : module.parameters()) p.set_requires_grad(false);
}

}  // namespace ecotta::model
