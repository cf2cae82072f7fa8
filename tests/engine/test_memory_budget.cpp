#include <gtest/gtest.h>

#include <torch/torch.h>

#include "adapt/memory_budget.h"
#include "adapt/methods.h"
#include "bench/continual_benchmark.h"
#include "memory/counting_allocator.h"
#include "small_bundle.h"

using namespace ecotta;
using adapt::MemoryPlan;

namespace {

// A method whose step needs `base + per_sample * batch` bytes, and less when
// only the deeper parts train.
adapt::StepMeasure linear(int64_t base, int64_t per_sample, int* calls = nullptr) {
  return [=](int64_t batch, size_t part) {
    if (calls) ++*calls;
    return base + per_sample * batch / static_cast<int64_t>(1 + part);
  };
}

}  // namespace

TEST(MemoryBudget, TheWantedBatchWhenItFits) {
  const auto plan = adapt::plan_memory({.cap = 1000, .wanted_batch = 64, .min_batch = 8, .parts = 4}, linear(100, 10));
  EXPECT_EQ(plan.mode, MemoryPlan::Mode::Full);
  EXPECT_EQ(plan.batch, 64);
  EXPECT_LE(plan.predicted_bytes, 900);
}

TEST(MemoryBudget, FewerSamplesFirst) {
  const auto plan = adapt::plan_memory({.cap = 500, .wanted_batch = 64, .min_batch = 8, .parts = 4}, linear(100, 10));
  EXPECT_EQ(plan.mode, MemoryPlan::Mode::Full);
  EXPECT_EQ(plan.batch, 35);  // 100 + 10 b <= 450
  EXPECT_LE(plan.predicted_bytes, 450);
  EXPECT_NE(plan.reason.find("fewer samples"), std::string::npos) << plan.reason;
}

TEST(MemoryBudget, ThenOnlyTheDeeperParts) {
  // 8 samples need 180 bytes with every part training; only part 1 on: 140.
  const auto plan = adapt::plan_memory(
      {.cap = 170, .wanted_batch = 64, .min_batch = 8, .parts = 4, .can_train_deeper_only = true}, linear(100, 10));
  EXPECT_EQ(plan.mode, MemoryPlan::Mode::DeeperParts);
  EXPECT_GE(plan.first_trained_part, 1u);
  EXPECT_GE(plan.batch, 8);
  EXPECT_LE(plan.predicted_bytes, 153);
}

TEST(MemoryBudget, ThenStatisticsOnly) {
  auto plan = adapt::plan_memory(
      {.cap = 100, .wanted_batch = 64, .min_batch = 8, .parts = 4, .can_train_deeper_only = true}, linear(100, 10));
  EXPECT_EQ(plan.mode, MemoryPlan::Mode::StatisticsOnly);
  // Methods that cannot drop parts go straight from fewer samples to statistics.
  plan = adapt::plan_memory({.cap = 170, .wanted_batch = 64, .min_batch = 8, .parts = 4}, linear(100, 10));
  EXPECT_EQ(plan.mode, MemoryPlan::Mode::StatisticsOnly);
  EXPECT_THROW(adapt::plan_memory({.cap = 0}, linear(1, 1)), std::invalid_argument);
}

TEST(MemoryBudget, EcoTtaUnderHalfItsPeakStaysUnderTheCapAndStillAdapts) {
  memory::AllocationCounter::install();
  const auto x = torch::randn({32, 3, 32, 32});
  auto measure = [&](int64_t batch, size_t part) {
    auto bundle = test_support::small_warm_bundle();
    adapt::MethodOptions o;
    o.ecotta.first_trained_part = part;
    auto m = adapt::make_method("ecotta", bundle, o);
    return bench::step_adapt_bytes(*m, x.slice(0, 0, batch));
  };
  const int64_t uncapped = measure(32, 0);
  const auto plan = adapt::plan_memory(
      {.cap = uncapped / 2, .wanted_batch = 32, .min_batch = 4, .parts = 4, .can_train_deeper_only = true}, measure);
  ASSERT_NE(plan.mode, MemoryPlan::Mode::StatisticsOnly) << plan.reason;
  auto bundle = test_support::small_warm_bundle();
  const auto before = test_support::snapshot(*bundle.meta);
  adapt::MethodOptions o;
  o.ecotta.first_trained_part = plan.first_trained_part;
  auto method = adapt::make_method("ecotta", bundle, o);
  int64_t peak = 0;
  for (int step = 0; step < 4; ++step)
    for (int64_t at = 0; at < 32; at += plan.batch) {
      memory::PeakScope scope;
      method->forward_and_adapt(x.slice(0, at, std::min<int64_t>(32, at + plan.batch)));
      peak = std::max(peak, scope.peak_above_start());
    }
  EXPECT_LE(peak + method->persistent_bytes(), uncapped / 2) << plan.reason;
  EXPECT_FALSE(test_support::all_equal(before, test_support::snapshot(*bundle.meta)));
}

TEST(MemoryBudget, CappedBatchesAreCutIntoEqualSlices) {
  // A tail slice of a few samples would give batch statistics from those few.
  EXPECT_EQ(bench::balanced_slices(64, 28), (std::vector<int64_t>{22, 21, 21}));
  EXPECT_EQ(bench::balanced_slices(64, 32), (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(bench::balanced_slices(5, 2), (std::vector<int64_t>{2, 2, 1}));
  EXPECT_EQ(bench::balanced_slices(64, 0), (std::vector<int64_t>{64}));
  EXPECT_EQ(bench::balanced_slices(64, 100), (std::vector<int64_t>{64}));
  EXPECT_TRUE(bench::balanced_slices(0, 8).empty());
  for (int64_t n = 1; n <= 70; ++n)
    for (int64_t cap = 1; cap <= n; ++cap) {
      const auto s = bench::balanced_slices(n, cap);
      int64_t sum = 0;
      for (auto v : s) {
        EXPECT_LE(v, cap);
        EXPECT_GE(v, s.back());
        EXPECT_LE(v - s.back(), 1);
        sum += v;
      }
      EXPECT_EQ(sum, n);
      EXPECT_EQ(static_cast<int64_t>(s.size()), (n + cap - 1) / cap);
    }
}
