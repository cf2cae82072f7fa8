#include <gtest/gtest.h>

#include <thread>

#include "memory/counting_allocator.h"

using ecotta::memory::AllocationCounter;
using ecotta::memory::PeakScope;

TEST(CountingAllocator, CountsTensorBytesAndTheirRelease) {
  auto& counter = AllocationCounter::install();
  const int64_t before = counter.current_bytes();
  {
    auto t = torch::empty({1024, 256}, torch::kFloat32);  // 1 MiB
    EXPECT_GE(counter.current_bytes() - before, 1 << 20);
    EXPECT_LT(counter.current_bytes() - before, (1 << 20) + 4096);
  }
  EXPECT_EQ(counter.current_bytes(), before);
}

TEST(CountingAllocator, PeakScopeSeesTransientTensors) {
  AllocationCounter::install();
  PeakScope scope;
  {
    auto a = torch::ones({512, 512});  // 1 MiB, freed before the scope is read
    auto b = a * 2;                    // another MiB
  }
  EXPECT_GE(scope.peak_above_start(), 2 << 20);
  EXPECT_LT(scope.peak_above_start(), (2 << 20) + 65536);
}

TEST(CountingAllocator, CountsOneDnnConvolutionBuffers) {
  // A convolution's workspace passes through c10's allocator too; its peak
  // exceeds input + output.
  AllocationCounter::install();
  auto x = torch::randn({8, 16, 32, 32});
  auto w = torch::randn({32, 16, 3, 3});
  PeakScope scope;
  auto y = torch::conv2d(x, w, {}, 1, 1);
  EXPECT_GE(scope.peak_above_start(), y.numel() * 4);
}

TEST(CountingAllocator, ConcurrentAllocationsBalanceOut) {
  auto& counter = AllocationCounter::install();
  const int64_t before = counter.current_bytes();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([] {
      for (int k = 0; k < 200; ++k) {
        auto t = torch::empty({1000 + k});
        t.fill_(1);
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter.current_bytes(), before);
}
