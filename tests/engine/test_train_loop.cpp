// train::train with per-epoch data (what `ecotta train --fresh-scenes` uses):
// each epoch asks for its own data once, a resumed run asks only for the
// epochs it still runs and ends with the same weights as an uninterrupted one.
#include <gtest/gtest.h>

#include <vector>

#include <torch/torch.h>

#include "../support/temp_dir.h"
#include "small_bundle.h"
#include "train/train_loop.h"
#include "train/warmup.h"

using namespace ecotta;

namespace {

// A linear classifier of 6x6 RGB images into 3 classes: cheap, and every
// sample's pixels reach the weights.
struct Tiny : torch::nn::Module {
  Tiny() {
    torch::manual_seed(3);
    fc = register_module("fc", torch::nn::Linear(6 * 6 * 3, 3));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc->forward(x.flatten(1)); }
  torch::nn::Linear fc{nullptr};
};

// 24 samples whose pixels and labels depend only on `seed`.
train::TensorDataset samples(uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  return {torch::randint(0, 256, {24, 6, 6, 3}, gen, torch::kInt64).to(torch::kUInt8),
          torch::randint(0, 3, {24}, gen, torch::kInt64)};
}

struct Trainer {
  std::shared_ptr<Tiny> net = std::make_shared<Tiny>();
  std::vector<int> asked;  // epochs the data was asked for, in order

  train::TrainTarget target() {
    train::TrainTarget t;
    t.forward = [this](const torch::Tensor& x) { return net->forward(x); };
    t.parameters = net->parameters();
    t.checkpoint_module = net;
    t.enter_training = [this] { net->train(); };
    return t;
  }
  // Epoch e trains on samples(100 + e).
  std::vector<train::EpochReport> per_epoch(const train::TrainConfig& config) {
    return train::train(target(), [this](int epoch) { asked.push_back(epoch); return samples(100 + epoch); },
                        model::InputSpec{}, config, false);
  }
};

train::TrainConfig config(int epochs) {
  train::TrainConfig c;
  c.epochs = epochs;
  c.batch = 8;
  c.lr = 0.05;
  c.crop_padding = 1;
  c.seed = 5;
  return c;
}

}  // namespace

TEST(TrainLoop, PerEpochDataIsAskedForOncePerEpochAndChangesTheResult) {
  Trainer fresh;
  const auto reports = fresh.per_epoch(config(3));
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(fresh.asked, (std::vector<int>{0, 1, 2}));
  for (const auto& r : reports) EXPECT_GE(r.data_seconds, 0.0);

  // The same data every epoch through either overload: the same weights,
  // and not those of training on new data every epoch.
  Trainer fixed, constant;
  train::train(fixed.target(), samples(100), model::InputSpec{}, config(3), false);
  train::train(constant.target(), [](int) { return samples(100); }, model::InputSpec{}, config(3), false);
  EXPECT_TRUE(test_support::all_equal(test_support::snapshot(*fixed.net), test_support::snapshot(*constant.net)));
  EXPECT_FALSE(test_support::all_equal(test_support::snapshot(*fixed.net), test_support::snapshot(*fresh.net)));
}

TEST(TrainLoop, ResumingWithPerEpochDataGivesTheUninterruptedWeights) {
  Trainer whole;
  whole.per_epoch(config(3));

  ecotta::testing::TempDir dir;
  auto c = config(3);
  c.checkpoint_path = dir.file("tiny.ckpt");
  c.stop_after = 1;
  Trainer first;
  ASSERT_EQ(first.per_epoch(c).size(), 1u);
  EXPECT_EQ(first.asked, (std::vector<int>{0}));
  c.stop_after = 0;
  Trainer rest;  // a fresh process would start from the same initial weights
  const auto reports = rest.per_epoch(c);
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports.front().epoch, 2);
  EXPECT_EQ(rest.asked, (std::vector<int>{1, 2}));
  EXPECT_TRUE(test_support::all_equal(test_support::snapshot(*whole.net), test_support::snapshot(*rest.net)));

  // Nothing left to run: the data is not asked for at all.
  Trainer done;
  EXPECT_TRUE(done.per_epoch(c).empty());
  EXPECT_TRUE(done.asked.empty());
}

TEST(TrainLoop, PerEpochDataOfAnotherSizeIsRefused) {
  Trainer run;
  EXPECT_THROW(train::train(run.target(),
                            [](int epoch) { return epoch == 0 ? samples(1) : samples(2).slice(0, 16); },
                            model::InputSpec{}, config(2), false),
               std::invalid_argument);
}

TEST(WarmUp, RobustWarmUpLeavesTheStatisticsSeenThroughTheMetaNetworksAsAnchor) {
  // Robust mode at test time must start where warm-up left the frozen
  // layers' EMA, not at the original network's source statistics, which the
  // meta networks have moved away from.
  for (auto norm : {model::NormMode::Robust, model::NormMode::Batch}) {
    auto bundle = test_support::small_warm_bundle();
    train::TensorDataset data{torch::randint(0, 256, {16, 32, 32, 3}, torch::kInt64).to(torch::kUInt8),
                              torch::randint(0, 10, {16}, torch::kInt64)};
    auto c = config(1);
    train::warm_up(bundle, data, c, norm, false);
    if (norm != model::NormMode::Robust) {
      EXPECT_TRUE(bundle.robust_anchor.empty());
      continue;
    }
    std::vector<torch::Tensor> anchor;
    for (const auto& t : bundle.robust_anchor) anchor.push_back(t.clone());
    ASSERT_FALSE(anchor.empty());
    for (const auto& t : bundle.robust_anchor) EXPECT_TRUE(t.device().is_cpu());
    bool differs = false;
    size_t i = 0;
    for (const auto& t : bundle.model->named_buffers(true))
      if (t.key().find("running_") != std::string::npos) differs |= !torch::allclose(anchor[i++], t.value());
    EXPECT_TRUE(differs) << "the anchor is just the source statistics";
    // Evaluating afterwards moves the EMA, not the anchor.
    {
      torch::NoGradGuard no_grad;
      model::forward_with_meta(*bundle.model, *bundle.meta, torch::randn({4, 3, 32, 32}) * 2);
    }
    for (size_t j = 0; j < anchor.size(); ++j) EXPECT_TRUE(torch::equal(anchor[j], bundle.robust_anchor[j]));
  }
}

TEST(WarmUp, RobustWarmUpOfAFinishedCheckpointSaysItCannotMeasureTheAnchor) {
  ecotta::testing::TempDir dir;
  auto bundle = test_support::small_warm_bundle();
  train::TensorDataset data{torch::randint(0, 256, {16, 32, 32, 3}, torch::kInt64).to(torch::kUInt8),
                            torch::randint(0, 10, {16}, torch::kInt64)};
  auto c = config(1);
  c.checkpoint_path = dir.file("warm.ckpt");
  train::warm_up(bundle, data, c, model::NormMode::Robust, false);
  try {
    train::warm_up(bundle, data, c, model::NormMode::Robust, false);
    FAIL() << "a finished checkpoint gave an anchor it never measured";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("anchor"), std::string::npos) << e.what();
  }
}
