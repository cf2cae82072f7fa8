#pragma once
#include <vector>

#include <torch/types.h>

#include "model/meta_network.h"

namespace ecotta::adapt {

// The adapted forward pass for an adaptation step: like
// model::forward_with_meta, but the stem runs without autograd (nothing
// before it adapts) and every frozen part and the head store nothing for
// backward beyond their inputs (see frozen_part_backward.h). Parts before
// `first_trained_part` (and their meta networks) run without autograd too.
torch::Tensor forward_for_adaptation(model::PartitionedModel& model, model::MetaNetworksImpl& meta,
                                     const torch::Tensor& x, std::vector<torch::Tensor>* frozen_outputs,
                                     std::vector<torch::Tensor>* adapted_outputs, size_t first_trained_part = 0);

}  // namespace ecotta::adapt
