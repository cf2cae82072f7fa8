#pragma once
#include <memory>
#include <string>
#include <vector>

#include <torch/nn/module.h>

#include "norm_mode.h"

namespace ecotta::model {

enum class Task { Classify, Segment };
Task parse_task(const std::string& name);  // "classify" | "segment"
std::string to_string(Task task);

// A frozen network seen as stem -> part_1 .. part_K -> head, the shape EcoTTA
// attaches its meta networks to. Our own models and imported TorchScript
// modules both present it.
class PartitionedModel : public torch::nn::Module {
 public:
  virtual torch::Tensor stem(const torch::Tensor& x) = 0;
  virtual torch::Tensor part(size_t k, const torch::Tensor& x) = 0;
  // A part as a chain of blocks, so a backward pass can recompute it one
  // block at a time. By default a part is one block.
  virtual size_t part_blocks(size_t k) const;
  virtual torch::Tensor block(size_t k, size_t j, const torch::Tensor& x);
  // The gradient of block(k, j, x) with respect to x, given the gradient of
  // its output, computed by hand without autograd (cheaper than recomputing
  // the block under autograd: no second convolution, nothing kept beyond
  // each step). Undefined when the model has none; autograd is used then.
  virtual torch::Tensor block_input_grad(size_t k, size_t j, const torch::Tensor& x, const torch::Tensor& grad_out);
  // `parts` holds every part's output (a segmentation head may use shallow
  // ones as skip connections); `input` gives the output geometry.
  virtual torch::Tensor head(const std::vector<torch::Tensor>& parts, const torch::Tensor& input) = 0;
  virtual size_t num_parts() const = 0;
  virtual Task task() const = 0;
  // How the parts are cut, in the model's own units (residual blocks for our
  // networks), for descriptions.
  virtual std::vector<int64_t> partition() const = 0;

  // Sets how every BatchNorm layer of the network normalizes. Our own
  // networks support every mode; imported ones may refuse some.
  virtual void apply_norm_mode(NormMode mode);

  // The plain network, parts chained without meta networks.
  torch::Tensor forward(const torch::Tensor& x);
};

using ModelPtr = std::shared_ptr<PartitionedModel>;

// Checks a partition given as block counts against a network of `blocks`
// residual blocks; throws std::invalid_argument saying what is wrong.
void validate_partition(const std::vector<int64_t>& counts, int64_t blocks, const std::string& model_name);

}  // namespace ecotta::model
