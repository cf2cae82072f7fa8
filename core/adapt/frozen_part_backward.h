#pragma once
#include <torch/types.h>

#include "model/partitioned_model.h"

namespace ecotta::adapt {

// Runs frozen part k of `model` on `input` without recording its
// activations for backward. If `input` requires grad, the gradient is
// obtained during backward by recomputing the part from `input` (which the
// meta network keeps anyway) and differentiating with respect to the input
// only. This is where EcoTTA's memory saving is made real: plain autograd
// keeps every frozen convolution's input even though no weight gradient is
// wanted, so adapting meta networks alone would save nothing.
// The forward also keeps the input of one block in every `keep_every`
// (1: every block, 0: none but the part's own input), which spares backward
// recomputing them: worth it for deep parts, whose activations are small
// (block_input_plan.h chooses).
torch::Tensor frozen_part_forward(model::PartitionedModel& model, size_t k, const torch::Tensor& input,
                                  int64_t keep_every = 0);

// The same for the frozen head (our heads are small, but segmentation heads
// hold full-resolution decoder activations).
torch::Tensor frozen_head_forward(model::PartitionedModel& model, const std::vector<torch::Tensor>& parts,
                                  const torch::Tensor& input);

}  // namespace ecotta::adapt
