#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "model/meta_network.h"

namespace ecotta::adapt {

struct AdaptedForward {
  torch::Tensor logits;
  std::vector<torch::Tensor> regularizers;  // R_k = mean |x~_k - x_k| of every trained part
};

// The adapted forward pass for an adaptation step: like
// model::forward_with_meta, but the stem runs without autograd (nothing
// before it adapts), every frozen part and the head store nothing for
// backward beyond their inputs (frozen_part_backward.h), and each meta
// block only its two inputs (meta_block_backward.h). Parts before
// `first_trained_part` (and their meta networks) run without autograd;
// part k keeps one block input in every keep_every[k] for backward
// (block_input_plan.h). A resolved plan: here missing entries mean none
// kept, not the default plan. The first trained part keeps none whatever
// its entry: its input needs no gradient, so no backward runs through it.
AdaptedForward forward_for_adaptation(model::PartitionedModel& model, model::MetaNetworksImpl& meta,
                                      const torch::Tensor& x, size_t first_trained_part = 0,
                                      const std::vector<int64_t>& keep_every = {});

}  // namespace ecotta::adapt
