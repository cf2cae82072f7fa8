#include "ecotta_loss.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace ecotta::adapt {

torch::Tensor softmax_entropy(const torch::Tensor& logits) {
  const auto logp = torch::log_softmax(logits, 1);
  return -(logp.exp() * logp).sum(1);
}

EcoTtaLoss ecotta_loss_with_terms(const torch::Tensor& logits, const std::vector<torch::Tensor>& regularizers,
                                  double lambda, double entropy_margin) {
  EcoTtaLoss out;
  const auto classes = logits.size(1);
  const auto h = softmax_entropy(logits).flatten();
  const auto keep = h < entropy_margin * std::log(static_cast<double>(classes));
  out.confident = keep.sum().item<int64_t>();
  out.entropy = out.confident > 0 ? h.masked_select(keep).mean() : torch::zeros({}, logits.options());
  out.regularizer = torch::zeros({}, logits.options());
  for (const auto& r : regularizers) out.regularizer = out.regularizer + r;
  out.total = out.entropy + lambda * out.regularizer;
  return out;
}

EcoTtaLoss ecotta_loss(const torch::Tensor& logits, const std::vector<torch::Tensor>& frozen_outputs,
                       const std::vector<torch::Tensor>& adapted_outputs, double lambda, double entropy_margin) {
  if (frozen_outputs.size() != adapted_outputs.size())
    throw std::invalid_argument("ecotta_loss: as many frozen as adapted part outputs are needed");
  std::vector<torch::Tensor> terms;
  for (size_t k = 0; k < adapted_outputs.size(); ++k)
    terms.push_back((adapted_outputs[k] - frozen_outputs[k].detach()).abs().mean());
  return ecotta_loss_with_terms(logits, terms, lambda, entropy_margin);
}

}  // namespace ecotta::adapt
