#include "block_chain_model.h"

#include <torch/torch.h>

namespace ecotta::model {

void BlockChainModel::set_partition(const std::vector<int64_t>& split, const std::string& model_name) {
  validate_partition(split, num_blocks(), model_name);
  split_ = split;
  part_start_.clear();
  int64_t start = 0;
  for (auto c : split) {
    part_start_.push_back(start);
    start += c;
  }
  part_start_.push_back(start);
}

torch::Tensor BlockChainModel::part(size_t k, const torch::Tensor& x) {
  auto h = x;
  for (int64_t i = part_start_.at(k); i < part_start_.at(k + 1); ++i) h = run_block(i, h);
  return h;
}

size_t BlockChainModel::part_blocks(size_t k) const {
  return static_cast<size_t>(part_start_.at(k + 1) - part_start_.at(k));
}

torch::Tensor BlockChainModel::block(size_t k, size_t j, const torch::Tensor& x) {
  if (j >= part_blocks(k)) throw std::out_of_range("part " + std::to_string(k) + " has no block " + std::to_string(j));
  return run_block(part_start_.at(k) + static_cast<int64_t>(j), x);
}

torch::Tensor BlockChainModel::block_input_grad(size_t k, size_t j, const torch::Tensor& x, const torch::Tensor& grad_out) {
  if (j >= part_blocks(k)) throw std::out_of_range("part " + std::to_string(k) + " has no block " + std::to_string(j));
  return run_block_input_grad(part_start_.at(k) + static_cast<int64_t>(j), x, grad_out);
}

}  // namespace ecotta::model
