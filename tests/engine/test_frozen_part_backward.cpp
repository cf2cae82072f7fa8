#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "adapt/adapted_forward.h"
#include "adapt/ecotta_loss.h"
#include "memory/counting_allocator.h"
#include "model/bundle.h"
#include "model/manual_backward.h"
#include "model/memory_format.h"
#include "model/meta_network.h"
#include "model/model_zoo.h"
#include "model/torchscript_model.h"

using namespace ecotta;

namespace {

struct Setup {
  model::ModelPtr net;
  model::MetaNetworks meta{nullptr};
};

Setup make(const std::string& name, int64_t h, int64_t w, model::NormMode mode) {
  torch::manual_seed(5);
  Setup s;
  s.net = model::build_model(model::arch_for(name, name == "segmenter" ? 11 : 10));
  s.meta = model::MetaNetworks(model::probe_part_shapes(*s.net, h, w));
  model::freeze(*s.net);
  s.net->apply_norm_mode(mode);
  model::set_norm_mode(*s.meta, mode);
  for (auto& m : s.net->modules(false))
    if (auto* bn = m->as<model::AdaptiveBatchNorm2dImpl>()) bn->reset_robust_stats();
  return s;
}

std::vector<torch::Tensor> meta_grads(Setup& s, const torch::Tensor& x, bool recompute,
                                      const std::vector<int64_t>& keep_every = {}) {
  s.meta->zero_grad();
  // margin 10: every sample counts
  if (recompute) {
    const auto f = adapt::forward_for_adaptation(*s.net, *s.meta, x, 0, keep_every);
    adapt::ecotta_loss_with_terms(f.logits, f.regularizers, 0.5, 10.0).total.backward();
  } else {
    std::vector<torch::Tensor> frozen, adapted;
    const auto logits = model::forward_with_meta(*s.net, *s.meta, x, &frozen, &adapted);
    adapt::ecotta_loss(logits, frozen, adapted, 0.5, 10.0).total.backward();
  }
  std::vector<torch::Tensor> grads;
  for (const auto& p : s.meta->parameters()) grads.push_back(p.grad().clone());
  return grads;
}

}  // namespace

TEST(FrozenPartBackward, RecomputationGivesTheSameMetaGradients) {
  for (auto mode : {model::NormMode::Batch, model::NormMode::Source, model::NormMode::Robust}) {
    auto a = make("wrn-16-2", 32, 32, mode);
    auto b = make("wrn-16-2", 32, 32, mode);
    const auto x = torch::randn({6, 3, 32, 32});
    const auto ga = meta_grads(a, x, false);
    const auto gb = meta_grads(b, x, true);
    ASSERT_EQ(ga.size(), gb.size());
    for (size_t i = 0; i < ga.size(); ++i) EXPECT_TRUE(torch::allclose(ga[i], gb[i], 1e-4, 1e-5)) << i;
    for (const auto& p : b.net->parameters()) EXPECT_FALSE(p.grad().defined());
  }
}

TEST(FrozenPartBackward, EveryPlanOfKeptBlockInputsGivesTheSameMetaGradients) {
  // WRN-40-2 (3,3,6,6): keep none, all, every other, one in three, one in
  // four (a checkpoint mid-part, the rest recomputed from it), and mixed.
  auto a = make("wrn-40-2", 32, 32, model::NormMode::Batch);
  const auto x = torch::randn({3, 3, 32, 32});
  const auto expected = meta_grads(a, x, false);
  for (const std::vector<int64_t>& plan : std::vector<std::vector<int64_t>>{
           {0, 0, 0, 0}, {1, 1, 1, 1}, {2, 2, 2, 2}, {3, 3, 3, 3}, {4, 4, 4, 4}, {0, 0, 2, 1}}) {
    auto b = make("wrn-40-2", 32, 32, model::NormMode::Batch);
    const auto got = meta_grads(b, x, true, plan);
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(torch::allclose(got[i], expected[i], 1e-4, 1e-5))
          << "plan " << plan[0] << plan[1] << plan[2] << plan[3] << " tensor " << i;
  }
}

TEST(FrozenPartBackward, ChannelsLastGivesTheSameMetaGradients) {
  // Loaded bundles run channels-last (model/memory_format.h): there too the
  // hand-written backward must give plain autograd's gradients, with or
  // without kept block inputs. (Across layouts the convolutions round
  // differently: on a deep random network with fixed statistics, 3e-4
  // relative; the same layout on both sides isolates the backward.)
  for (auto mode : {model::NormMode::Batch, model::NormMode::Robust})
    for (const std::vector<int64_t>& plan : std::vector<std::vector<int64_t>>{{0, 0, 0, 0}, {0, 0, 2, 1}}) {
      auto a = make("wrn-40-2", 32, 32, mode);
      auto b = make("wrn-40-2", 32, 32, mode);
      for (auto* s : {&a, &b}) {
        model::use_channels_last(*s->net);
        model::use_channels_last(*s->meta);
      }
      const auto x = torch::randn({3, 3, 32, 32});
      const auto expected = meta_grads(a, x, false);
      const auto got = meta_grads(b, x, true, plan);
      {
        torch::NoGradGuard no_grad;
        const auto part = b.net->part(0, b.net->stem(x));
        ASSERT_TRUE(part.is_contiguous(at::MemoryFormat::ChannelsLast)) << "activations did not follow the weights";
      }
      ASSERT_EQ(got.size(), expected.size());
      for (size_t i = 0; i < got.size(); ++i)
        EXPECT_TRUE(torch::allclose(got[i], expected[i], 1e-4, 1e-5))
            << "mode " << model::to_string(mode) << " plan " << plan[2] << plan[3] << " tensor " << i;
    }
}

TEST(ManualBackward, ReluMaskAppliesInEveryLayout) {
  torch::manual_seed(2);
  const auto act = torch::randn({2, 3, 4, 5});
  const auto grad = torch::randn({2, 3, 4, 5});
  const auto expected = grad * (act > 0);
  // Contiguous and channels-last (the fast path), mixed layouts and a
  // strided view (the fallback): the same values.
  for (auto grad_format : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast})
    for (auto mask_format : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
      auto g = grad.contiguous(grad_format).clone(grad_format);
      const auto mask = model::relu_mask(act.contiguous(mask_format));
      model::apply_relu_mask_(g, mask);
      EXPECT_TRUE(torch::equal(g, expected));
      EXPECT_TRUE(g.is_contiguous(grad_format));  // in place
    }
  auto wide = torch::zeros({2, 3, 4, 10});
  auto view = wide.slice(3, 0, 10, 2);  // every other column: not dense
  view.copy_(grad);
  model::apply_relu_mask_(view, model::relu_mask(act));
  EXPECT_TRUE(torch::equal(view, expected));
  EXPECT_EQ(wide.slice(3, 1, 10, 2).abs().sum().item<double>(), 0.0);  // the gaps untouched
}

TEST(FrozenPartBackward, SegmenterHeadAndSkipConnectionGetGradients) {
  auto a = make("segmenter", 64, 64, model::NormMode::Batch);
  auto b = make("segmenter", 64, 64, model::NormMode::Batch);
  const auto x = torch::randn({2, 3, 64, 64});
  const auto ga = meta_grads(a, x, false);
  const auto gb = meta_grads(b, x, true);
  for (size_t i = 0; i < ga.size(); ++i) EXPECT_TRUE(torch::allclose(ga[i], gb[i], 1e-4, 1e-5)) << i;
}

TEST(FrozenPartBackward, RobustStatisticsCountEachBatchOnce) {
  auto a = make("wrn-16-2", 32, 32, model::NormMode::Robust);
  auto b = make("wrn-16-2", 32, 32, model::NormMode::Robust);
  const auto x = torch::randn({4, 3, 32, 32}) * 2 + 1;
  meta_grads(a, x, false);
  meta_grads(b, x, true);  // recomputes every part during backward
  auto theirs = a.net->named_buffers(true);
  for (const auto& buf : b.net->named_buffers(true))
    EXPECT_TRUE(torch::allclose(buf.value(), theirs[buf.key()], 1e-5, 1e-6)) << buf.key();
}

TEST(FrozenPartBackward, StoresFarLessThanPlainAutograd) {
  // The measured peak of forward + backward above the level before the step.
  memory::AllocationCounter::install();
  // WRN-40-2 with the paper's split 3,3,6,6: several blocks per part, so
  // most activations belong to frozen parts.
  auto measure = [](bool recompute) {
    auto s = make("wrn-40-2", 32, 32, model::NormMode::Batch);
    const auto x = torch::randn({16, 3, 32, 32});
    memory::PeakScope scope;
    meta_grads(s, x, recompute, {0, 0, 2, 1});  // the default plan on WRN-40-2
    return scope.peak_above_start();
  };
  const auto plain = measure(false);
  const auto recomputed = measure(true);
  std::printf(
      "WRN-40-2, peak bytes of one step at batch 16: plain autograd "
      "%lld, recomputed frozen parts %lld (%.2fx)\n",
      static_cast<long long>(plain), static_cast<long long>(recomputed), static_cast<double>(recomputed) / plain);
  // Measured 0.23x with the hand-written block and meta backward and the default plan.
  EXPECT_LT(recomputed, plain * 30 / 100);
}

TEST(EcoTtaLoss, EntropyFilterAndRegularizer) {
  // Two samples: one confident (low entropy), one uniform (ln C, filtered out).
  auto logits = torch::zeros({2, 10});
  logits[0][3] = 20;
  const auto frozen = std::vector<torch::Tensor>{torch::zeros({2, 4})};
  const auto adapted = std::vector<torch::Tensor>{torch::full({2, 4}, 0.5)};
  const auto l = adapt::ecotta_loss(logits, frozen, adapted, 0.5, 0.4);
  EXPECT_EQ(l.confident, 1);
  EXPECT_LT(l.entropy.item<double>(), 1e-4);
  EXPECT_NEAR(l.regularizer.item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(l.total.item<double>(), l.entropy.item<double>() + 0.25, 1e-6);
  // Nobody confident: the entropy term is zero, not NaN.
  const auto none = adapt::ecotta_loss(torch::zeros({3, 10}), frozen, adapted);
  EXPECT_EQ(none.confident, 0);
  EXPECT_EQ(none.entropy.item<double>(), 0.0);
}

TEST(EcoTtaLoss, ClassBalancedEntropyWeighsEachPredictedClassEqually) {
  // A 1 x 3 x 2 x 2 segmentation: three confident background pixels (class
  // 0) of entropy about 0, one item pixel (class 2) of some entropy e. The
  // plain mean is e / 4, the balanced one (0 + e) / 2.
  auto logits = torch::zeros({1, 3, 2, 2});
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) logits[0][0][y][x] = 30;
  logits[0][0][1][1] = 0;
  logits[0][2][1][1] = 3;
  const auto e = adapt::softmax_entropy(logits)[0][1][1].item<double>();
  ASSERT_GT(e, 0.05);
  const std::vector<torch::Tensor> none;
  const auto plain = adapt::ecotta_loss_with_terms(logits, none, 0.5, 1.0);
  const auto balanced = adapt::ecotta_loss_with_terms(logits, none, 0.5, 1.0, true);
  EXPECT_EQ(balanced.confident, 4);
  EXPECT_NEAR(plain.entropy.item<double>(), e / 4, 1e-5);
  EXPECT_NEAR(balanced.entropy.item<double>(), e / 2, 1e-5);
  // One class only: the two agree. Nobody confident: zero, not NaN.
  const auto one = torch::randn({4, 5}) + torch::tensor({8.f, 0.f, 0.f, 0.f, 0.f});
  EXPECT_NEAR(adapt::ecotta_loss_with_terms(one, none, 0.5, 1.0, true).entropy.item<double>(),
              adapt::ecotta_loss_with_terms(one, none, 0.5, 1.0).entropy.item<double>(), 1e-6);
  EXPECT_EQ(adapt::ecotta_loss_with_terms(torch::zeros({3, 10}), none, 0.5, 0.4, true).entropy.item<double>(), 0.0);
}

TEST(FrozenPartBackward, HandWrittenBlockGradientMatchesAutograd) {
  // Every block of WRN-16-2 (identity and strided projection shortcuts) and
  // of the segmenter (post-activation blocks, strided projections, dilated
  // convolutions) in every normalization mode, in both layouts.
  for (const std::string name : {"wrn-16-2", "segmenter"})
  for (auto mode : {model::NormMode::Batch, model::NormMode::Source, model::NormMode::Robust, model::NormMode::Train})
    for (bool channels_last : {false, true}) {
      const int64_t size = name == "segmenter" ? 64 : 32;
      auto s = make(name, size, size, mode);
      if (channels_last) model::use_channels_last(*s.net);
      model::FreezeRobustStats frozen_stats;  // both computations see the same statistics
      torch::Tensor h;
      {
        torch::NoGradGuard no_grad;
        h = s.net->stem(torch::randn({3, 3, size, size}));
      }
      for (size_t k = 0; k < s.net->num_parts(); ++k)
        for (size_t j = 0; j < s.net->part_blocks(k); ++j) {
          const auto x = h.detach().requires_grad_(true);
          const auto y = s.net->block(k, j, x);
          const auto g = torch::randn_like(y);
          const auto expected = torch::autograd::grad({y}, {x}, {g})[0];
          const auto by_hand = s.net->block_input_grad(k, j, x.detach(), g);
          ASSERT_TRUE(by_hand.defined());
          EXPECT_TRUE(torch::allclose(by_hand, expected, 1e-4, 1e-5))
              << name << " mode " << model::to_string(mode) << (channels_last ? " channels-last" : "") << " part " << k
              << " block " << j << ": max diff " << (by_hand - expected).abs().max().item<double>();
          h = y.detach();
        }
    }
}

TEST(FrozenPartBackward, ModelsWithoutHandWrittenBlockGradientSayNone) {
  // An imported TorchScript network's blocks are opaque: no gradient by hand
  // (its frozen parts are recomputed under autograd instead).
  std::ifstream spec(std::string(ECOTTA_FIXTURE_DIR) + "/tiny_resnet_partition.json");
  std::stringstream text;
  text << spec.rdbuf();
  model::TorchScriptModel net(model::load_torchscript(std::string(ECOTTA_FIXTURE_DIR) + "/tiny_resnet_scripted.pt"),
                              model::parse_partition_spec(text.str()));
  torch::Tensor h;
  {
    torch::NoGradGuard no_grad;
    h = net.stem(torch::randn({2, 3, 32, 32}));
  }
  EXPECT_FALSE(net.block_input_grad(0, 0, h, h).defined());
}
