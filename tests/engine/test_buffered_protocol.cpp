// The bench's buffered protocol, the element's way of adapting: a slice is
// predicted before any step sees it, and steps train on batches from the
// class-balanced sample buffer, not on the stream's own batches.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "adapt/methods.h"
#include "adapt/sample_buffer.h"
#include "bench/continual_benchmark.h"
#include "data/fashion_mnist.h"
#include "train/tensor_data.h"
#include "small_bundle.h"

using namespace ecotta;
using test_support::images;
using test_support::small_warm_bundle;

namespace {

adapt::MethodOptions robust_tent(double lr) {
  adapt::MethodOptions o;
  o.baseline_norm = model::NormMode::Robust;
  o.tent_lr = lr;
  return o;
}

bench::BenchBatch batch_of(const torch::Tensor& x, const torch::Tensor& targets, size_t domain = 0) {
  bench::BenchBatch b;
  b.domain = domain;
  b.input = x;
  b.targets = targets;
  return b;
}

}  // namespace

TEST(BufferedProtocol, EachSliceIsPredictedBeforeTheStepThatFollowsIt) {
  // A reference does by hand what the protocol promises: predict the slice,
  // offer it with its predicted labels, one step on the buffer. Targets are
  // the reference's predictions, so the run must score 0% error.
  // The shipped classifier on Fashion-MNIST test items: its predictions
  // depend on the item, so a large step changes some of them.
  const auto shipped = std::string(ECOTTA_FIXTURE_DIR) + "/../wrn-40-2-ecotta.ecotta";
  auto ref_bundle = model::load_bundle(shipped);
  const auto items = train::to_tensors(
      data::to_model_input(data::load_fashion_mnist(data::default_data_dir(), data::Split::Test, 16)));
  const auto x = train::prepare_input(items.images, ref_bundle.info.input, torch::kCPU);
  const auto x1 = x.slice(0, 0, 8), x2 = x.slice(0, 8, 16);
  auto ref = adapt::make_method("tent", ref_bundle, robust_tent(0.5));
  adapt::SampleBuffer buffer(16, 10);
  const auto t1 = ref->predict(x1).argmax(1);
  for (int64_t k = 0; k < 8; ++k) buffer.offer(x1[k], t1[k].item<int64_t>());
  ref->forward_and_adapt(buffer.batch(8));
  const auto t2 = ref->predict(x2).argmax(1);
  // The step must change what the network says, or order would not show.
  ASSERT_FALSE(torch::equal(ref->predict(x1).argmax(1), t1)) << "the step should move the predictions";

  auto bundle = model::load_bundle(shipped);
  auto method = adapt::make_method("tent", bundle, robust_tent(0.5));
  const auto run = bench::run_buffered(*method, {batch_of(x1, t1), batch_of(x2, t2, 1)}, model::Task::Classify, 10,
                                       1, 2, {8, 32});
  EXPECT_EQ(run.metric[0][0], 0.0);
  EXPECT_EQ(run.metric[0][1], 0.0);
  EXPECT_EQ(method->steps(), 2);
  EXPECT_GT(run.peak_step_bytes, 0);
}

TEST(BufferedProtocol, OneStepPerSliceOnceTheBufferHoldsAStepsWorth) {
  // Batches of 8 in slices of 3 (3, 3, 2): the buffer holds 3 after the first
  // slice, so every slice is followed by a step.
  std::vector<bench::BenchBatch> batches;
  for (int i = 0; i < 3; ++i) batches.push_back(batch_of(images(8, 10 + i), torch::zeros({8}, torch::kInt64)));
  auto bundle = small_warm_bundle();
  auto method = adapt::make_method("tent", bundle, robust_tent(1e-3));
  bench::run_buffered(*method, batches, model::Task::Classify, 10, 1, 1, {3, 0});
  EXPECT_EQ(method->steps(), 9);
  // A step of 6 waits until two slices have been offered.
  auto bundle2 = small_warm_bundle();
  auto method2 = adapt::make_method("tent", bundle2, robust_tent(1e-3));
  bench::run_buffered(*method2, batches, model::Task::Classify, 10, 1, 1, {6, 0});
  EXPECT_EQ(method2->steps(), 5);  // slices 4, 4 | 4, 4 | 4, 4: from the second slice on
}

TEST(BufferedProtocol, TheSourceModelScoresAsInTheBatchProtocol) {
  std::vector<bench::BenchBatch> batches;
  for (int i = 0; i < 2; ++i)
    batches.push_back(batch_of(images(8, 20 + i), torch::randint(0, 10, {8}, torch::kInt64), static_cast<size_t>(i)));
  auto a = small_warm_bundle(), b = small_warm_bundle();
  auto direct = adapt::make_method("source", a, {});
  auto buffered = adapt::make_method("source", b, {});
  const auto d = bench::run_continual(*direct, batches, model::Task::Classify, 10, 1, 2);
  const auto r = bench::run_buffered(*buffered, batches, model::Task::Classify, 10, 1, 2, {4, 0});
  EXPECT_EQ(d.metric, r.metric);
}

TEST(BufferedProtocol, RefusesWhatItCannotRun) {
  auto bundle = small_warm_bundle();
  auto method = adapt::make_method("source", bundle, {});
  const std::vector<bench::BenchBatch> batches = {batch_of(images(2, 1), torch::zeros({2}, torch::kInt64))};
  EXPECT_THROW(bench::run_buffered(*method, batches, model::Task::Classify, 10, 1, 1, {0, 0}), std::invalid_argument);
  EXPECT_THROW(bench::run_buffered(*method, batches, model::Task::Segment, 10, 1, 1, {4, 0}), std::invalid_argument);
}
