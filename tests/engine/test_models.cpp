#include <gtest/gtest.h>

#include "model/adaptive_batch_norm.h"
#include "model/bundle.h"
#include "model/meta_network.h"
#include "model/model_zoo.h"
#include "model/segmenter.h"
#include "model/wide_resnet.h"

using namespace ecotta::model;

namespace {

void copy_state(torch::nn::Module& from, torch::nn::Module& to) {
  torch::NoGradGuard no_grad;
  auto src_p = from.named_parameters(true);
  for (auto& p : to.named_parameters(true)) p.value().copy_(src_p[p.key()]);
  auto src_b = from.named_buffers(true);
  for (auto& b : to.named_buffers(true)) b.value().copy_(src_b[b.key()]);
}

// Puts non-trivial statistics into every BN so Source mode is meaningful.
void randomize_bn(torch::nn::Module& m) {
  torch::NoGradGuard no_grad;
  for (auto& mod : m.modules(false))
    if (auto* bn = mod->as<AdaptiveBatchNorm2dImpl>()) {
      bn->running_mean.normal_(0, 0.1);
      bn->running_var.uniform_(0.5, 1.5);
      bn->weight.uniform_(0.8, 1.2);
      bn->bias.normal_(0, 0.1);
    }
}

}  // namespace

TEST(WideResNet, Wrn40x2HasEighteenBlocksAndTheExpectedSize) {
  WideResNet net({40, 2, 10, {3, 3, 6, 6}});
  EXPECT_EQ(net.num_blocks(), 18);
  EXPECT_EQ(net.num_parts(), 4u);
  // WRN-40-2 for 10 classes has 2.24 M parameters.
  int64_t n = 0;
  for (const auto& p : net.parameters()) n += p.numel();
  EXPECT_NEAR(static_cast<double>(n), 2.2435e6, 2e3);
  net.apply_norm_mode(NormMode::Source);
  EXPECT_EQ(net.forward(torch::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 10}));
}

TEST(WideResNet, AnySplitGivesOutputsIdenticalToTheUnsplitNetwork) {
  torch::manual_seed(1);
  WideResNet whole({16, 2, 10, {6}});
  WideResNet split({16, 2, 10, {1, 1, 2, 2}});
  WideResNet fine({16, 2, 10, {1, 1, 1, 1, 1, 1}});
  randomize_bn(whole);
  copy_state(whole, split);
  copy_state(whole, fine);
  for (auto* m : {&whole, &split, &fine}) m->apply_norm_mode(NormMode::Source);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({3, 3, 32, 32});
  const auto ref = whole.forward(x);
  EXPECT_TRUE(torch::equal(ref, split.forward(x)));
  EXPECT_TRUE(torch::equal(ref, fine.forward(x)));
}

TEST(WideResNet, BadPartitionsAreRefusedWithAReason) {
  try {
    WideResNet net({40, 2, 10, {3, 3, 6, 5}});
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("17 blocks"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("18"), std::string::npos) << e.what();
  }
  EXPECT_THROW(WideResNet({40, 2, 10, {0, 6, 6, 6}}), std::invalid_argument);
  EXPECT_THROW(WideResNet({41, 2, 10, {18}}), std::invalid_argument);
}

TEST(Segmenter, OutputsPerPixelScoresAtInputResolution) {
  Segmenter net({11, 16, {2, 2, 2, 2}});
  net.apply_norm_mode(NormMode::Source);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net.forward(torch::randn({2, 3, 64, 64})).sizes(), (std::vector<int64_t>{2, 11, 64, 64}));
  EXPECT_EQ(net.forward(torch::randn({1, 3, 48, 80})).sizes(), (std::vector<int64_t>{1, 11, 48, 80}));
}

TEST(MetaNetworks, ShapesFollowThePartsAndStridesMatch) {
  WideResNet net({40, 2, 10, {3, 3, 6, 6}});
  const auto shapes = probe_part_shapes(net, 32, 32);
  ASSERT_EQ(shapes.size(), 4u);
  // Parts: 16->32 @32, 32->32 @32, 32->64 @32->16 (first block of group 2 strides), 64->128 @16->8.
  EXPECT_EQ(shapes[0].in_channels, 16);
  EXPECT_EQ(shapes[0].out_channels, 32);
  EXPECT_EQ(shapes[0].stride(), 1);
  EXPECT_EQ(shapes[2].stride(), 2);
  EXPECT_EQ(shapes[3].stride(), 2);
  EXPECT_EQ(shapes[3].out_channels, 128);
  MetaNetworks meta(shapes);
  int64_t meta_params = 0, frozen_params = 0;
  for (const auto& p : meta->parameters()) meta_params += p.numel();
  for (const auto& p : net.parameters()) frozen_params += p.numel();
  // The paper's meta networks add roughly 5-15 % to the model.
  EXPECT_GT(static_cast<double>(meta_params) / frozen_params, 0.03);
  EXPECT_LT(static_cast<double>(meta_params) / frozen_params, 0.20);
}

TEST(MetaNetworks, AdaptedForwardIsFrozenPartThroughBnPlusConvPath) {
  torch::manual_seed(2);
  WideResNet net({16, 2, 10, {1, 1, 2, 2}});
  randomize_bn(net);
  MetaNetworks meta(probe_part_shapes(net, 32, 32));
  net.apply_norm_mode(NormMode::Source);
  set_norm_mode(*meta, NormMode::Source);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 3, 32, 32});
  std::vector<torch::Tensor> frozen, adapted;
  const auto out = forward_with_meta(net, *meta, x, &frozen, &adapted);
  // Recompute by hand: x~_k = BN_k(O_k(x~_{k-1})) + ConvBlock_k(x~_{k-1}).
  auto h = net.stem(x);
  std::vector<torch::Tensor> parts;
  for (size_t k = 0; k < net.num_parts(); ++k) {
    const auto o = net.part(k, h);
    EXPECT_TRUE(torch::allclose(o, frozen[k]));
    h = meta->block(k).output_norm(o) + meta->block(k).conv_path(h);
    EXPECT_TRUE(torch::allclose(h, adapted[k]));
    parts.push_back(h);
  }
  EXPECT_TRUE(torch::allclose(out, net.head(parts, x)));
  // With the conv path silenced and an identity output BN, the adapted
  // network is the original one.
  for (size_t k = 0; k < meta->size(); ++k) {
    auto named = meta->block(k).named_modules();
    auto* out_bn = named["out_bn"]->as<AdaptiveBatchNorm2dImpl>();
    auto* conv_bn = named["conv_bn"]->as<AdaptiveBatchNorm2dImpl>();
    out_bn->weight.fill_(1);
    out_bn->bias.zero_();
    out_bn->running_mean.zero_();
    out_bn->running_var.fill_(1 - 1e-5);  // var + eps = 1: exact identity
    conv_bn->weight.zero_();
    conv_bn->bias.zero_();
  }
  EXPECT_TRUE(torch::allclose(forward_with_meta(net, *meta, x), net.forward(x), 1e-5, 1e-5));
}

TEST(AdaptiveBatchNorm, ModesNormalizeWithTheRightStatistics) {
  AdaptiveBatchNorm2d bn(3);
  torch::NoGradGuard no_grad;
  bn->running_mean.fill_(1.0);
  bn->running_var.fill_(4.0);
  const auto x = torch::randn({8, 3, 4, 4}) * 3 + 5;

  bn->set_mode(NormMode::Source);
  EXPECT_TRUE(torch::allclose(bn(x), (x - 1) / std::sqrt(4 + 1e-5), 1e-5, 1e-5));

  bn->set_mode(NormMode::Batch);
  const auto y = bn(x);
  EXPECT_NEAR(y.mean().item<double>(), 0.0, 1e-4);
  EXPECT_TRUE(torch::allclose(bn->running_mean, torch::full({3}, 1.0)));  // untouched

  bn->set_mode(NormMode::Train);
  bn(x);
  EXPECT_FALSE(torch::allclose(bn->running_mean, torch::full({3}, 1.0)));  // updated
}

TEST(AdaptiveBatchNorm, RobustModeSurvivesBatchSizeOne) {
  // Batch statistics of a single constant-ish frame are degenerate; the
  // robust EMA moves from the source statistics by its momentum only.
  AdaptiveBatchNorm2d bn(2);
  torch::NoGradGuard no_grad;
  bn->running_mean.fill_(0.0);
  bn->running_var.fill_(1.0);
  bn->reset_robust_stats();
  bn->set_mode(NormMode::Robust);
  bn->set_robust_momentum(0.05);
  const auto frame = torch::full({1, 2, 4, 4}, 2.0);
  const auto y = bn(frame);
  EXPECT_NEAR(bn->robust_mean[0].item<double>(), 0.1, 1e-6);  // 0.95 * 0 + 0.05 * 2
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  // Batch mode on the same frame collapses it to zeros.
  bn->set_mode(NormMode::Batch);
  EXPECT_NEAR(bn(frame).abs().max().item<double>(), 0.0, 1e-3);
  // Source statistics are untouched by Robust mode; a reset returns to them.
  EXPECT_NEAR(bn->running_mean[0].item<double>(), 0.0, 1e-9);
  bn->reset_robust_stats();
  EXPECT_NEAR(bn->robust_mean[0].item<double>(), 0.0, 1e-9);
}

TEST(ModelZoo, NamesMapToArchitectures) {
  EXPECT_NE(arch_for("wrn-40-2", 10).find("\"depth\":40"), std::string::npos);
  EXPECT_EQ(task_for("segmenter"), Task::Segment);
  EXPECT_THROW(arch_for("resnet-9000", 10), std::invalid_argument);
}

TEST(PartitionedModel, ChainingAPartsBlocksGivesThePart) {
  torch::manual_seed(4);
  std::vector<std::pair<ModelPtr, int64_t>> models = {
      {build_model(arch_for("wrn-16-2", 10)), 32}, {build_model(arch_for("segmenter", 11)), 64}};
  for (auto& [net, size] : models) {
    net->apply_norm_mode(NormMode::Source);
    torch::NoGradGuard no_grad;
    auto h = net->stem(torch::randn({2, 3, size, size}));
    for (size_t k = 0; k < net->num_parts(); ++k) {
      auto chained = h;
      for (size_t j = 0; j < net->part_blocks(k); ++j) chained = net->block(k, j, chained);
      const auto whole = net->part(k, h);
      EXPECT_TRUE(torch::equal(chained, whole)) << "part " << k;
      EXPECT_EQ(static_cast<int64_t>(net->part_blocks(k)), net->partition()[k]);
      h = whole;
    }
  }
}
