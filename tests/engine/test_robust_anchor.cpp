#include <gtest/gtest.h>

#include <torch/torch.h>

#include "model/adaptive_batch_norm.h"
#include "small_bundle.h"
#include "train/robust_anchor.h"

using namespace ecotta;

namespace {

// uint8 images N x 32 x 32 x 3, as the data sets hold them.
train::TensorDataset images(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  train::TensorDataset d;
  d.images = torch::randint(0, 256, {n, 32, 32, 3}, torch::kUInt8);
  d.targets = torch::zeros({n}, torch::kLong);
  return d;
}

}  // namespace

TEST(RobustAnchor, FrozenAtTheAnchorTheNetworkPredictsAsWithBatchStatistics) {
  // Meta networks warmed up with batch statistics feed the frozen layers
  // something their source statistics do not describe; at the anchor,
  // frame-at-a-time predictions match the batch-statistics ones.
  auto bundle = test_support::small_warm_bundle();
  // The network's weights and source statistics (the robust buffers are
  // where the measurement runs).
  const auto own_state = [&] {
    std::vector<torch::Tensor> out;
    for (const auto& p : bundle.model->named_parameters()) out.push_back(p.value().clone());
    for (const auto& b : bundle.model->named_buffers())
      if (b.key().find("robust") == std::string::npos) out.push_back(b.value().clone());
    return out;
  };
  const auto before = own_state();
  const auto meta_before = test_support::snapshot(*bundle.meta);
  train::measure_robust_anchor(bundle, images(512, 1), 64, torch::kCPU);
  ASSERT_FALSE(bundle.robust_anchor.empty());
  EXPECT_TRUE(test_support::all_equal(before, own_state())) << "nothing may be trained or overwritten";
  EXPECT_TRUE(test_support::all_equal(meta_before, test_support::snapshot(*bundle.meta)));

  const auto probe = train::prepare_input(images(256, 2).images, bundle.info.input, torch::kCPU);
  torch::NoGradGuard no_grad;
  model::apply_meta_norm_mode(bundle, model::NormMode::Batch);
  const auto batch_logits = model::forward_with_meta(*bundle.model, *bundle.meta, probe);
  model::apply_meta_norm_mode(bundle, model::NormMode::Robust);  // starts at the anchor
  torch::Tensor anchored;
  {
    model::FreezeRobustStats frozen;
    anchored = model::forward_with_meta(*bundle.model, *bundle.meta, probe);
  }
  bundle.robust_anchor.clear();
  model::apply_meta_norm_mode(bundle, model::NormMode::Source);
  model::apply_meta_norm_mode(bundle, model::NormMode::Robust);  // from the source statistics
  torch::Tensor unanchored;
  {
    model::FreezeRobustStats frozen;
    unanchored = model::forward_with_meta(*bundle.model, *bundle.meta, probe);
  }
  const double anchored_gap = (anchored - batch_logits).abs().mean().item<double>();
  const double unanchored_gap = (unanchored - batch_logits).abs().mean().item<double>();
  // (0.087 against 0.79 when written.)
  EXPECT_LT(anchored_gap, 0.25 * unanchored_gap) << "anchored " << anchored_gap << " unanchored " << unanchored_gap;
}

TEST(RobustAnchor, RefusesABundleWithoutMetaNetworksOrTooFewSamples) {
  auto bundle = test_support::small_warm_bundle();
  EXPECT_THROW(train::measure_robust_anchor(bundle, images(10, 1), 64, torch::kCPU), std::invalid_argument);
  bundle.meta = nullptr;
  EXPECT_THROW(train::measure_robust_anchor(bundle, images(128, 1), 64, torch::kCPU), std::invalid_argument);
}
