#include "adapted_forward.h"

#include <torch/torch.h>

#include "frozen_part_backward.h"
#include "meta_block_backward.h"

namespace ecotta::adapt {

AdaptedForward forward_for_adaptation(model::PartitionedModel& model, model::MetaNetworksImpl& meta,
                                      const torch::Tensor& x, size_t first_trained_part,
                                      const std::vector<int64_t>& keep_every) {
  AdaptedForward out;
  torch::Tensor h;
  {
    torch::NoGradGuard no_grad;
    h = model.stem(x);
  }
  std::vector<torch::Tensor> adapted;
  for (size_t k = 0; k < model.num_parts(); ++k) {
    if (k < first_trained_part) {
      torch::NoGradGuard no_grad;
      h = meta.block(k).forward(h, model.part(k, h));
    } else {
      const int64_t every = k < keep_every.size() ? keep_every[k] : 0;
      auto [next, reg] = meta_block_forward(meta.block(k), h, frozen_part_forward(model, k, h, every));
      h = next;
      out.regularizers.push_back(reg);
    }
    adapted.push_back(h);
  }
  out.logits = frozen_head_forward(model, adapted, x);
  return out;
}

}  // namespace ecotta::adapt
