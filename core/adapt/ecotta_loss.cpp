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
                                  double lambda, double entropy_margin, bool class_balanced) {
  EcoTtaLoss out;
  const auto classes = logits.size(1);
  const auto h = softmax_entropy(logits).flatten();
  const auto keep = h < entropy_margin * std::log(static_cast<double>(classes));
  out.confident = keep.sum().item<int64_t>();
  if (out.confident == 0) {
    out.entropy = torch::zeros({}, logits.options());
  } else if (class_balanced) {
    // Each confident sample weighs 1 / (confident samples of its predicted
    // class), so every predicted class sums to 1; divided by the classes.
    const auto kept = h.masked_select(keep);
    const auto predicted = logits.detach().argmax(1).flatten().masked_select(keep);
    const auto counts = torch::bincount(predicted, {}, classes).to(kept.scalar_type());
    const auto present = (counts > 0).sum().to(kept.scalar_type());
    out.entropy = (kept / counts.index_select(0, predicted)).sum() / present;
  } else {
    out.entropy = h.masked_select(keep).mean();
  }
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
