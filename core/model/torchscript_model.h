#pragma once
#include <string>
#include <vector>

#include <torch/script.h>

#include "partitioned_model.h"

namespace ecotta::model {

// How to see an imported TorchScript module as stem -> parts -> head: each
// entry names a child module (dots reach deeper, e.g. "layer1.0"), called in
// order. In the head, "flatten" flattens all but the batch dimension (where
// torchvision's forward calls torch.flatten between avgpool and fc).
struct PartitionSpec {
  Task task = Task::Classify;
  std::vector<std::string> stem;
  std::vector<std::vector<std::string>> parts;
  std::vector<std::string> head;
};

// Parses {"task", "stem": [...], "parts": [[...], ...], "head": [...]}.
PartitionSpec parse_partition_spec(const std::string& json_text);
std::string to_json(const PartitionSpec& spec);

class TorchScriptModel : public PartitionedModel {
 public:
  // Checks that every named child exists; throws std::invalid_argument
  // naming the first one that does not.
  TorchScriptModel(torch::jit::Module module, PartitionSpec spec);

  torch::Tensor stem(const torch::Tensor& x) override;
  torch::Tensor part(size_t k, const torch::Tensor& x) override;
  size_t part_blocks(size_t k) const override { return spec_.parts.at(k).size(); }
  torch::Tensor block(size_t k, size_t j, const torch::Tensor& x) override;
  torch::Tensor head(const std::vector<torch::Tensor>& parts, const torch::Tensor& input) override;
  size_t num_parts() const override { return spec_.parts.size(); }
  Task task() const override { return spec_.task; }
  std::vector<int64_t> partition() const override;
  // Source -> eval(); Batch and Train -> train(); Robust is refused (its
  // BatchNorm layers are compiled and cannot take an external EMA).
  void apply_norm_mode(NormMode mode) override;

  torch::jit::Module& module() { return module_; }
  const PartitionSpec& spec() const { return spec_; }

 private:
  torch::Tensor run(const std::vector<std::string>& names, torch::Tensor x);
  torch::jit::Module child(const std::string& dotted);

  torch::jit::Module module_;
  PartitionSpec spec_;
};

// Loads a TorchScript module (torch.jit.script output) from a file or from
// bytes. Refuses a traced module: tracing bakes BatchNorm's train/eval mode
// into the graph, so test-time normalization could not be changed.
torch::jit::Module load_torchscript(const std::string& path);
torch::jit::Module load_torchscript_bytes(const std::string& bytes, const std::string& origin);

}  // namespace ecotta::model
