#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <torch/torch.h>

#include "adapt/methods.h"
#include "adapt/snapshot.h"
#include "small_bundle.h"

using namespace ecotta;

TEST(Snapshot, ConcurrentReadersNeverSeeAHalfPublishedState) {
  // The writer publishes states whose every element equals the step number;
  // readers must only ever see uniform snapshots, in increasing order.
  adapt::SnapshotPublisher publisher;
  std::atomic<bool> done{false};
  std::atomic<int64_t> bad{0}, reads{0};
  auto reader = [&] {
    torch::NoGradGuard no_grad;
    uint64_t last = 0;
    while (!done.load()) {
      const auto s = publisher.current();
      if (!s) continue;
      if (s->version < last) ++bad;
      last = s->version;
      for (const auto& t : s->tensors)
        if (!torch::all(t == static_cast<float>(s->version)).item<bool>()) ++bad;
      ++reads;
    }
  };
  std::vector<torch::Tensor> state = {torch::zeros({64, 64}), torch::zeros({1000}), torch::zeros({3, 3, 3})};
  std::thread r1(reader), r2(reader);
  for (int step = 1; step <= 3000; ++step) {
    for (auto& t : state) t.fill_(static_cast<float>(step));
    EXPECT_EQ(publisher.publish(state), static_cast<uint64_t>(step));
    for (auto& t : state) t.fill_(-1);  // the trainer's copy moves on; published snapshots must not
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_GT(reads.load(), 0);
}

TEST(Snapshot, InferenceReadsSnapshotsWhileEcoTtaAdapts) {
  // Adaptation on one thread publishes after every step; an inference thread
  // with its own copy of the meta networks applies the newest snapshot
  // before each frame. At the end both hold the same meta state.
  auto trainer = test_support::small_warm_bundle();
  auto reader = test_support::small_warm_bundle();
  auto method = adapt::make_method("ecotta", trainer, {});
  // Frames come one at a time: the reader normalizes with stored statistics.
  reader.model->apply_norm_mode(model::NormMode::Source);
  model::set_norm_mode(*reader.meta, model::NormMode::Source);
  adapt::SnapshotPublisher publisher;
  publisher.publish(method->adapted_state());
  std::atomic<bool> done{false};
  std::atomic<int64_t> frames{0}, non_finite{0};
  uint64_t seen = 0;
  std::thread inference([&] {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> live = reader.meta->parameters();
    for (const auto& b : reader.meta->buffers()) live.push_back(b);
    while (!done.load() || frames.load() < 5) {
      adapt::apply_snapshot(*publisher.current(), live, &seen);
      const auto y = model::forward_with_meta(*reader.model, *reader.meta, torch::randn({1, 3, 32, 32}));
      if (!torch::isfinite(y).all().item<bool>()) ++non_finite;
      ++frames;
    }
  });
  torch::manual_seed(3);
  for (int step = 0; step < 20; ++step) {
    method->forward_and_adapt(torch::randn({8, 3, 32, 32}));
    publisher.publish(method->adapted_state());
  }
  done = true;
  inference.join();
  EXPECT_EQ(non_finite.load(), 0);
  EXPECT_GE(frames.load(), 5);
  std::vector<torch::Tensor> live = reader.meta->parameters();
  for (const auto& b : reader.meta->buffers()) live.push_back(b);
  adapt::apply_snapshot(*publisher.current(), live, &seen);
  EXPECT_EQ(seen, 21u);
  const auto a = method->adapted_state();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], live[i])) << i;
}

TEST(Snapshot, ASnapshotOfAnotherShapeIsRefusedAndCopiesNothing) {
  adapt::SnapshotPublisher publisher;
  publisher.publish({torch::full({3}, 1.0), torch::full({1}, 2.0)});
  const auto snapshot = publisher.current();
  const std::vector<torch::Tensor> reader{torch::zeros({3}), torch::zeros({4})};
  uint64_t seen = 0;
  // The second tensor would broadcast into the reader's with a plain copy_.
  EXPECT_THROW(adapt::apply_snapshot(*snapshot, reader, &seen), std::invalid_argument);
  EXPECT_TRUE(torch::equal(reader[0], torch::zeros({3})));  // nothing copied, not even the first
  EXPECT_EQ(seen, 0u);
  const std::vector<torch::Tensor> fewer{torch::zeros({3})};
  EXPECT_THROW(adapt::apply_snapshot(*snapshot, fewer, &seen), std::invalid_argument);
  const std::vector<torch::Tensor> same{torch::zeros({3}), torch::zeros({1})};
  EXPECT_TRUE(adapt::apply_snapshot(*snapshot, same, &seen));
  EXPECT_EQ(seen, snapshot->version);
  EXPECT_TRUE(torch::equal(same[1], torch::full({1}, 2.0)));
}
