#pragma once
#include <string>
#include <vector>

#include <torch/types.h>

#include "model/bundle.h"

namespace ecotta::adapt {

// The affine weights and biases of every BatchNorm layer below `module`
// (what Tent and EATA train). Throws std::invalid_argument naming `method`
// when there are none the engine can see (imported TorchScript networks).
std::vector<torch::Tensor> batch_norm_affine(torch::nn::Module& module, const std::string& method);

// Parameters and buffers, in module order.
std::vector<torch::Tensor> parameters_and_buffers(torch::nn::Module& module);

// A second, independent copy of the bundle's network with the same weights
// and statistics (CoTTA's teacher and anchor).
model::ModelPtr copy_network(const model::Bundle& bundle);

// Copies `from` into `into` element by element, without autograd (same
// counts and shapes; the caller checks when they come from outside).
void copy_tensors(const std::vector<torch::Tensor>& into, const std::vector<torch::Tensor>& from);

// Sets requires_grad on every parameter of `module`.
void set_trainable(torch::nn::Module& module, bool trainable);

}  // namespace ecotta::adapt
