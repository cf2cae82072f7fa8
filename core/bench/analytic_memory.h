#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/partitioned_model.h"

namespace ecotta::bench {

// Per-sample float counts of the activations an adaptation step can keep,
// found by running the network once on one input.
struct ActivationGeometry {
  struct Block {
    size_t part;
    int64_t in, out;
  };
  std::vector<Block> blocks;
  std::vector<int64_t> part_in, part_out;
  int64_t logits = 0;
};
ActivationGeometry probe_geometry(model::PartitionedModel& model, int64_t height, int64_t width);

// The analytic estimate of a method's peak adaptation bytes at `batch`:
// saved activations (from the geometry, float32) + gradients of the
// trainable parameters + the persistent state the method reports.
//   tent, eata, cotta (plain autograd through the whole network): each
//     residual block keeps its input, its two ReLU outputs and its inner
//     conv output, 2 (in + out); the head keeps 2 x its input.
//   ecotta (this project's design): per trained part its input (shared by
//     the frozen part's and the meta block's recomputation) and its frozen
//     output (for the output BN); the block inputs the parts keep
//     (adapt/block_input_plan.h; empty `keep_every`: the default plan); one
//     block's recomputation during backward, 2 (in + out) of the largest
//     block; the head's 2 x input.
//   source, norm: nothing saved.
int64_t analytic_adapt_bytes(const std::string& method, const ActivationGeometry& geometry, int64_t batch,
                             int64_t trainable_params, int64_t persistent_bytes, size_t first_trained_part = 0,
                             const std::vector<int64_t>& keep_every = {});

}  // namespace ecotta::bench
