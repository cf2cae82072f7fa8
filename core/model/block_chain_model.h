#pragma once
#include <string>
#include <vector>

#include <torch/nn/modules/container/modulelist.h>

#include "partitioned_model.h"

namespace ecotta::model {

// Our own networks: residual blocks in a ModuleList, cut into parts by block
// counts. The part and block bookkeeping lives here once; a subclass only
// says how to run block i.
class BlockChainModel : public PartitionedModel {
 public:
  torch::Tensor part(size_t k, const torch::Tensor& x) override;
  size_t part_blocks(size_t k) const override;
  torch::Tensor block(size_t k, size_t j, const torch::Tensor& x) override;
  torch::Tensor block_input_grad(size_t k, size_t j, const torch::Tensor& x, const torch::Tensor& grad_out) override;
  size_t num_parts() const override { return split_.size(); }
  std::vector<int64_t> partition() const override { return split_; }
  int64_t num_blocks() const { return static_cast<int64_t>(blocks_->size()); }

 protected:
  // Subclasses register blocks_ ("blocks") where their construction order
  // wants it (the order decides the seeded initialisation), then call this
  // once every block is in blocks_: validates the split (throws
  // std::invalid_argument naming `model_name`) and records where parts start.
  void set_partition(const std::vector<int64_t>& split, const std::string& model_name);
  virtual torch::Tensor run_block(int64_t i, const torch::Tensor& x) = 0;
  // Block i's hand-written input gradient, if the subclass has one.
  virtual torch::Tensor run_block_input_grad(int64_t, const torch::Tensor&, const torch::Tensor&) { return {}; }

  torch::nn::ModuleList blocks_{nullptr};  // registered by the subclass

 private:
  std::vector<int64_t> split_;
  std::vector<int64_t> part_start_;
};

}  // namespace ecotta::model
