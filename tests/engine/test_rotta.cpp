#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "adapt/memory_planner.h"
#include "adapt/methods.h"
#include "adapt/model_utils.h"
#include "adapt/rotta_memory.h"
#include "small_bundle.h"

using namespace ecotta;
using test_support::all_equal;
using test_support::images;
using test_support::small_warm_bundle;

namespace {

torch::Tensor sample(float value) { return torch::full({1, 2, 2}, value); }

std::vector<torch::Tensor> bn_affine(model::Bundle& b) { return adapt::batch_norm_affine(*b.model, "test"); }

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& ts) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.detach().clone());
  return out;
}

}  // namespace

TEST(RottaMemory, NoClassHoldsMoreThanItsShareAndTheUnderHeldTakeFromTheMostHeld) {
  adapt::CategoryBalancedMemory m(8, 3);  // a share of 8 / 3: at most 3 per class
  // A run of one class: past its share it replaces its own items, and only
  // those that score worse (older here: the ages grow, the entropies are equal).
  for (int i = 0; i < 6; ++i) m.add(sample(i), 0, 0.1);
  EXPECT_EQ(m.per_class(), (std::vector<size_t>{3, 0, 0}));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(m.add(sample(10 + i), 1 + i % 2, 0.1));
  EXPECT_EQ(m.per_class(), (std::vector<size_t>{3, 3, 2}));
  EXPECT_EQ(m.size(), 8u);
  // Full: a class under its share takes a slot from the most held ones.
  EXPECT_TRUE(m.add(sample(20), 2, 0.1));
  EXPECT_EQ(m.size(), 8u);
  EXPECT_EQ(m.per_class()[2], 3u);
  EXPECT_EQ(m.per_class()[0] + m.per_class()[1], 5u);
}

TEST(RottaMemory, OldAndUnsureItemsLeaveFirstAndABetterOneIsNeeded) {
  adapt::CategoryBalancedMemory m(2, 2);  // one per class once full
  EXPECT_TRUE(m.add(sample(1), 0, 0.6));  // unsure
  EXPECT_TRUE(m.add(sample(2), 0, 0.05));
  // Class 1 is under its share and the bank is full: class 0 gives up its
  // highest-scoring item, the unsure one.
  EXPECT_TRUE(m.add(sample(3), 1, 0.05));
  auto c = m.contents();
  ASSERT_EQ(c.samples.size(0), 2);
  EXPECT_EQ(c.samples[0].mean().item<float>(), 2.0f);  // class 0's confident sample stayed
  EXPECT_EQ(c.samples[1].mean().item<float>(), 3.0f);
  // A newcomer less certain than everything of its (full) class is not stored.
  EXPECT_FALSE(m.add(sample(4), 1, std::log(2.0)));
  // Ages count offers since arrival, over the capacity: class 0's item came
  // 3 offers ago (two more after it), class 1's 2 ago.
  c = m.contents();
  EXPECT_FLOAT_EQ(c.ages[0].item<float>(), 3.0f / 2);
  EXPECT_FLOAT_EQ(c.ages[1].item<float>(), 2.0f / 2);
}

TEST(RottaMemory, RefusesNonFiniteSamplesAndBadLabels) {
  adapt::CategoryBalancedMemory m(4, 2);
  auto bad = sample(1);
  bad[0][0][0] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(m.add(bad, 0, 0.1));
  EXPECT_FALSE(m.add(sample(1), 0, std::nan("")));
  EXPECT_EQ(m.size(), 0u);
  EXPECT_THROW(m.add(sample(1), 2, 0.1), std::invalid_argument);
  EXPECT_THROW(adapt::CategoryBalancedMemory(0, 2), std::invalid_argument);
  EXPECT_FALSE(m.contents().samples.defined());
}

TEST(Rotta, TrainsOnlyBatchNormAffineOnceEveryUpdatePeriodAndSharesTheFrozenWeights) {
  auto bundle = small_warm_bundle();
  const auto affine = bn_affine(bundle);
  std::vector<torch::Tensor> frozen;
  for (const auto& p : bundle.model->parameters())
    if (std::none_of(affine.begin(), affine.end(), [&](const torch::Tensor& a) { return a.is_same(p); }))
      frozen.push_back(p);
  const auto frozen_before = copies(frozen), affine_before = copies(affine);
  adapt::MethodOptions o;
  o.rotta_lr = 1e-2;
  auto method = adapt::make_method("rotta", bundle, o);
  EXPECT_EQ(method->trainable_count(), [&] { int64_t n = 0; for (auto& p : affine) n += p.numel(); return n; }());
  // 64 samples between updates: three batches of 16 take no step...
  for (int i = 0; i < 3; ++i) method->forward_and_adapt(images(16, i));
  EXPECT_TRUE(all_equal(affine_before, copies(affine)));
  // ...the fourth does, and only the BN affine parameters move.
  method->forward_and_adapt(images(16, 3));
  EXPECT_FALSE(all_equal(affine_before, copies(affine)));
  EXPECT_TRUE(all_equal(frozen_before, copies(frozen)));
  // The teacher holds no second copy of the frozen weights: what the
  // method keeps is far below one network.
  int64_t network_bytes = 0;
  for (const auto& p : frozen) network_bytes += p.numel() * 4;
  EXPECT_LT(method->persistent_bytes(), network_bytes / 2);
}

TEST(Rotta, PredictsWithTheTeacherWhoseStatisticsTheTestBatchDoesNotMove) {
  auto bundle = small_warm_bundle();
  adapt::MethodOptions o;
  o.rotta_update_every = 8;
  o.rotta_lr = 1e-2;
  auto method = adapt::make_method("rotta", bundle, o);
  for (int i = 0; i < 4; ++i) method->forward_and_adapt(images(8, i) * 2 + 1);  // updates, so the networks moved
  // What a test batch gets is the teacher's prediction before the batch
  // trains anything: predict() on the same state gives it bit for bit.
  const auto x = images(8, 9);
  const auto expected = method->predict(x);
  EXPECT_TRUE(torch::equal(method->forward_and_adapt(x), expected));
  // The teacher is an EMA of the student (nu 0.001): after updates it lags,
  // so the student's own prediction differs.
  EXPECT_FALSE(torch::allclose(bundle.model->forward(x), method->predict(x), 1e-4, 1e-4));
}

TEST(Rotta, ResetReturnsToTheSourceAndStateSurvivesASaveAndLoad) {
  auto bundle = small_warm_bundle();
  const auto affine_at_start = copies(bn_affine(bundle));
  adapt::MethodOptions o;
  o.rotta_update_every = 8;
  auto method = adapt::make_method("rotta", bundle, o);
  const auto x = images(8, 7);
  const auto at_start = method->predict(x);
  for (int i = 0; i < 4; ++i) method->forward_and_adapt(images(8, i) * 2 + 1);
  const auto adapted = method->predict(x);
  EXPECT_FALSE(torch::equal(adapted, at_start));
  const auto path = ::testing::TempDir() + "/rotta-state.pt";
  method->save_state(path);
  method->reset();
  // Robust statistics in the reset copy are the source's, taken at start.
  EXPECT_TRUE(torch::equal(method->predict(x), at_start));
  EXPECT_TRUE(all_equal(affine_at_start, copies(bn_affine(bundle))));
  method->load_state(path);
  EXPECT_TRUE(torch::equal(method->predict(x), adapted));
  std::remove(path.c_str());
}

TEST(Rotta, ANonFinitePixelNeverReachesTheBankOrTheParameters) {
  auto bundle = small_warm_bundle();
  adapt::MethodOptions o;
  o.rotta_update_every = 4;
  auto method = adapt::make_method("rotta", bundle, o);
  auto x = images(4, 5);
  x[1][2][3][4] = std::numeric_limits<float>::infinity();
  method->forward_and_adapt(x);  // an update on the three finite samples
  for (const auto& p : bundle.model->parameters()) EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
  for (const auto& b : bundle.model->buffers()) EXPECT_TRUE(torch::isfinite(b).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(method->predict(images(4, 6))).all().item<bool>());
  EXPECT_EQ(method->skipped_steps(), 0);
}

TEST(Rotta, AMemoryCapIsRefusedWithAReason) {
  try {
    adapt::plan_method_memory("never-loaded.ecotta", "rotta", {}, 1 << 20, images(8, 1));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("memory bank"), std::string::npos) << e.what();
  }
}
