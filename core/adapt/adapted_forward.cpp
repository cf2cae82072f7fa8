#include "adapted_forward.h"

#include <torch/torch.h>

#include "frozen_part_backward.h"

namespace ecotta::adapt {

torch::Tensor forward_for_adaptation(model::PartitionedModel& model, model::MetaNetworksImpl& meta,
                                     const torch::Tensor& x, std::vector<torch::Tensor>* frozen_outputs,
                                     std::vector<torch::Tensor>* adapted_outputs, size_t first_trained_part) {
  torch::Tensor h;
  {
    torch::NoGradGuard no_grad;
    h = model.stem(x);
  }
  std::vector<torch::Tensor> adapted;
  for (size_t k = 0; k < model.num_parts(); ++k) {
    torch::Tensor frozen;
    if (k < first_trained_part) {
      torch::NoGradGuard no_grad;
      frozen = model.part(k, h);
      h = meta.block(k).forward(h, frozen);
    } else {
      frozen = frozen_part_forward(model, k, h);
      h = meta.block(k).forward(h, frozen);
    }
    if (frozen_outputs) frozen_outputs->push_back(frozen);
    adapted.push_back(h);
  }
  auto out = frozen_head_forward(model, adapted, x);
  if (adapted_outputs) *adapted_outputs = std::move(adapted);
  return out;
}

}  // namespace ecotta::adapt
