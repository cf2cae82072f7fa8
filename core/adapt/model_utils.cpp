#include "model_utils.h"

#include <stdexcept>

#include <torch/torch.h>

#include "model/adaptive_batch_norm.h"

namespace ecotta::adapt {

std::vector<torch::Tensor> batch_norm_affine(torch::nn::Module& module, const std::string& method) {
  std::vector<torch::Tensor> out;
  for (const auto& m : module.modules())
    if (auto* bn = dynamic_cast<model::AdaptiveBatchNorm2dImpl*>(m.get())) {
      out.push_back(bn->weight);
      out.push_back(bn->bias);
    }
  if (out.empty())
    throw std::invalid_argument(method + " trains BatchNorm affine parameters, and this network has none the engine "
                                         "can reach (imported TorchScript networks keep theirs inside the script)");
  return out;
}

std::vector<torch::Tensor> parameters_and_buffers(torch::nn::Module& module) {
  auto out = module.parameters();
  for (const auto& b : module.buffers()) out.push_back(b);
  return out;
}

model::ModelPtr copy_network(const model::Bundle& bundle) {
  auto copy = model::build_model(bundle.info.arch_json, bundle.torchscript_bytes);
  const auto from = parameters_and_buffers(*bundle.model);
  const auto to = parameters_and_buffers(*copy);
  if (from.size() != to.size()) throw std::logic_error("copy_network: the rebuilt network has another layout");
  copy_tensors(to, from);
  model::freeze(*copy);
  return copy;
}

void copy_tensors(const std::vector<torch::Tensor>& into, const std::vector<torch::Tensor>& from) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < into.size(); ++i) into[i].copy_(from[i]);
}

void set_trainable(torch::nn::Module& module, bool trainable) {
  for (auto& p : module.parameters()) p.set_requires_grad(trainable);
}

}  // namespace ecotta::adapt
