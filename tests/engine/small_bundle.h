#pragma once
// Shared by the engine tests: a small WRN-16-2 bundle with meta networks,
// and tensor snapshots to compare states bit for bit.
#include <string>
#include <vector>

#include <torch/torch.h>

#include "model/bundle.h"
#include "model/model_zoo.h"

namespace ecotta::test_support {

inline model::Bundle small_warm_bundle(uint64_t seed = 11) {
  torch::manual_seed(seed);
  model::Bundle b;
  b.info.arch_json = model::arch_for("wrn-16-2", 10);
  for (int i = 0; i < 10; ++i) b.info.labels.push_back(std::to_string(i));
  b.info.normalization = model::NormMode::Batch;
  b.model = model::build_model(b.info.arch_json);
  model::attach_meta_networks(b);
  return b;
}

// n random 32x32 RGB images, the same for the same seed.
inline torch::Tensor images(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  return torch::randn({n, 3, 32, 32});
}

inline std::vector<torch::Tensor> snapshot(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  for (const auto& b : m.buffers()) out.push_back(b.detach().clone());
  return out;
}

inline bool all_equal(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i], b[i])) return false;
  return true;
}

}  // namespace ecotta::test_support
