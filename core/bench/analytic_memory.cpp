#include "analytic_memory.h"

#include <algorithm>

#include <torch/torch.h>

#include "adapt/block_input_plan.h"
#include "adapt/method_registry.h"

namespace ecotta::bench {

ActivationGeometry probe_geometry(model::PartitionedModel& model, int64_t height, int64_t width) {
  torch::NoGradGuard no_grad;
  model.apply_norm_mode(model::NormMode::Source);
  ActivationGeometry g;
  const auto x = torch::zeros({1, 3, height, width});
  auto h = model.stem(x);
  std::vector<torch::Tensor> parts;
  for (size_t k = 0; k < model.num_parts(); ++k) {
    g.part_in.push_back(h.numel());
    for (size_t j = 0; j < model.part_blocks(k); ++j) {
      const auto out = model.block(k, j, h);
      g.blocks.push_back({k, h.numel(), out.numel()});
      h = out;
    }
    g.part_out.push_back(h.numel());
    parts.push_back(h);
  }
  g.logits = model.head(parts, x).numel();
  return g;
}

int64_t analytic_adapt_bytes(const std::string& method, const ActivationGeometry& g, int64_t batch,
                             int64_t trainable_params, int64_t persistent_bytes, size_t first_trained_part,
                             const std::vector<int64_t>& keep_every) {
  int64_t floats = 0;  // per sample
  const int64_t head = g.part_out.empty() ? 0 : 2 * g.part_out.back();
  const auto cost = adapt::method_entry(method).cost;  // an unknown name throws, never counts zero
  if (cost == adapt::CostModel::AllActivations) {
    for (const auto& b : g.blocks) floats += 2 * (b.in + b.out);
    floats += head;
  } else if (cost == adapt::CostModel::MetaNetworks) {
    int64_t largest_block = 0;
    for (const auto& b : g.blocks)
      if (b.part >= first_trained_part) largest_block = std::max(largest_block, 2 * (b.in + b.out));
    const size_t parts = g.part_in.size();
    const auto every = adapt::resolve_keep_every(keep_every, g.part_out);
    for (size_t k = first_trained_part; k < parts; ++k) floats += g.part_in[k] + g.part_out[k];
    // The kept block inputs; none in the first trained part, whose input
    // needs no gradient, so no backward runs through its frozen blocks.
    size_t j = 0;
    for (size_t i = 0; i < g.blocks.size(); ++i) {
      const size_t k = g.blocks[i].part;
      j = (i > 0 && g.blocks[i - 1].part == k) ? j + 1 : 0;
      if (k > first_trained_part && adapt::keeps_block_input(every[k], j))
        floats += g.blocks[i].in;
    }
    floats += largest_block + head;
  }
  return floats * batch * 4 + trainable_params * 4 + persistent_bytes;
}

}  // namespace ecotta::bench
