#pragma once
#include <vector>

#include <torch/types.h>

#include "model/meta_network.h"

namespace ecotta::adapt {

// The adapted forward pass for an adaptation step: like
// model::forward_with_meta, but the stem runs without autograd (nothing
// before it adapts) and every frozen part and the head store nothing for
// backward beyond their inputs (see frozen_part_backward.h).
torch::Tensor forward_for_adaptation(model::PartitionedModel& model, model::MetaNetworksImpl& meta,
                                     const torch::Tensor& x, std::vector<torch::Tensor>* frozen_outputs,
                                     std::vector<torch::Tensor>* adapted_outputs);

}  // namespace ecotta::adapt
