#include "partitioned_model.h"

#include <numeric>
#include <stdexcept>

#include <torch/torch.h>

#include "adaptive_batch_norm.h"

namespace ecotta::model {

Task parse_task(const std::string& name) {
  if (name == "classify") return Task::Classify;
  if (name == "segment") return Task::Segment;
  throw std::invalid_argument("unknown task '" + name + "' (expected classify or segment)");
}

std::string to_string(Task task) { return task == Task::Classify ? "classify" : "segment"; }

size_t PartitionedModel::part_blocks(size_t) const { return 1; }

torch::Tensor PartitionedModel::block(size_t k, size_t, const torch::Tensor& x) { return part(k, x); }

torch::Tensor PartitionedModel::block_input_grad(size_t, size_t, const torch::Tensor&, const torch::Tensor&) { return {}; }

void PartitionedModel::apply_norm_mode(NormMode mode) { set_norm_mode(*this, mode); }

torch::Tensor PartitionedModel::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> outs;
  auto h = stem(x);
  for (size_t k = 0; k < num_parts(); ++k) {
    h = part(k, h);
    outs.push_back(h);
  }
  return head(outs, x);
}

void validate_partition(const std::vector<int64_t>& counts, int64_t blocks, const std::string& model_name) {
  if (counts.empty()) throw std::invalid_argument(model_name + ": a partition needs at least one part");
  for (auto c : counts)
    if (c <= 0) throw std::invalid_argument(model_name + ": every part needs at least one block");
  const auto total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  if (total != blocks)
    throw std::invalid_argument(model_name + ": the partition covers " + std::to_string(total) +
                                " blocks but the network has " + std::to_string(blocks));
}

}  // namespace ecotta::model
