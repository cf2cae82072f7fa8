#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>

#include "memory/counting_allocator.h"

using ecotta::memory::AllocationCounter;
using ecotta::memory::MemoryOwner;
using ecotta::memory::OwnerScope;
using ecotta::memory::PeakScope;

namespace {
constexpr int64_t kMiB = 1 << 20;
// A float tensor of `mib` MiB.
torch::Tensor mib_tensor(int64_t mib) { return torch::empty({mib * kMiB / 4}, torch::kFloat32); }
}  // namespace

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

TEST(MemoryOwner, ChargesOnlyTheOwnerInScope) {
  MemoryOwner a, b;
  {
    OwnerScope scope(a);
    auto t = mib_tensor(1);
    EXPECT_GE(a.current_bytes(), kMiB);
    EXPECT_LT(a.current_bytes(), kMiB + 4096);
    EXPECT_EQ(b.current_bytes(), 0);
  }
  EXPECT_EQ(a.current_bytes(), 0);
  EXPECT_GE(a.peak_bytes(), kMiB);
  EXPECT_EQ(b.peak_bytes(), 0);
  a.reset_peak();
  EXPECT_EQ(a.peak_bytes(), 0);
}

TEST(MemoryOwner, AllocationsOutsideAnyScopeAreChargedToNoOwner) {
  auto& counter = AllocationCounter::install();
  MemoryOwner a;
  const int64_t before = counter.current_bytes();
  auto t = mib_tensor(1);
  EXPECT_GE(counter.current_bytes() - before, kMiB);  // process-wide still counts it
  EXPECT_EQ(a.current_bytes(), 0);
  EXPECT_EQ(a.peak_bytes(), 0);
}

TEST(MemoryOwner, FreeOnAnotherThreadCreditsTheOwner) {
  MemoryOwner a;
  torch::Tensor t;
  {
    OwnerScope scope(a);
    t = mib_tensor(2);
  }
  EXPECT_GE(a.current_bytes(), 2 * kMiB);
  std::thread([t = std::move(t)]() mutable { t = torch::Tensor(); }).join();
  EXPECT_EQ(a.current_bytes(), 0);
}

TEST(MemoryOwner, ConcurrentOwnersKeepTheirOwnPeaks) {
  // Inference on one thread and adaptation on another: each owner's peak must
  // be its own, while the process-wide peak sees both at once.
  PeakScope process;
  MemoryOwner small, large;
  std::atomic<int> holding{0};
  auto work = [&holding](MemoryOwner& owner, int64_t mib) {
    OwnerScope scope(owner);
    for (int k = 0; k < 10; ++k) mib_tensor(mib);
    auto held = mib_tensor(mib);
    holding.fetch_add(1);
    while (holding.load() < 2) std::this_thread::yield();  // both blocks live together
  };
  std::thread t1(work, std::ref(small), 8);
  std::thread t2(work, std::ref(large), 80);
  t1.join();
  t2.join();
  EXPECT_GE(small.peak_bytes(), 8 * kMiB);
  EXPECT_LT(small.peak_bytes(), 10 * kMiB);
  EXPECT_GE(large.peak_bytes(), 80 * kMiB);
  EXPECT_LT(large.peak_bytes(), 90 * kMiB);
  EXPECT_GE(process.peak_above_start(), 88 * kMiB);
  EXPECT_EQ(small.current_bytes(), 0);
  EXPECT_EQ(large.current_bytes(), 0);
}

TEST(MemoryOwner, NestedScopesRestoreTheOuterOwner) {
  MemoryOwner outer, inner;
  OwnerScope outer_scope(outer);
  torch::Tensor x, y;
  {
    OwnerScope inner_scope(inner);
    x = mib_tensor(3);
  }
  y = mib_tensor(1);
  EXPECT_GE(inner.current_bytes(), 3 * kMiB);
  EXPECT_LT(inner.current_bytes(), 3 * kMiB + 4096);
  EXPECT_GE(outer.current_bytes(), kMiB);
  EXPECT_LT(outer.current_bytes(), kMiB + 4096);
}

TEST(MemoryOwner, OwnerDestroyedBeforeItsTensorIsSafe) {
  auto& counter = AllocationCounter::install();
  const int64_t before = counter.current_bytes();
  auto owner = std::make_unique<MemoryOwner>();
  torch::Tensor snapshot;
  {
    OwnerScope scope(*owner);
    snapshot = mib_tensor(2);
  }
  owner.reset();
  // A new owner must not inherit the dead owner's still-live bytes.
  MemoryOwner during;
  EXPECT_EQ(during.current_bytes(), 0);
  // Freed later, on another thread, after its owner is gone.
  std::thread([s = std::move(snapshot)]() mutable { s = torch::Tensor(); }).join();
  EXPECT_EQ(during.current_bytes(), 0);
  EXPECT_EQ(counter.current_bytes(), before);
  MemoryOwner after;  // may reuse the dead owner's counters: they start clean
  EXPECT_EQ(after.current_bytes(), 0);
  EXPECT_EQ(after.peak_bytes(), 0);
}

TEST(MemoryOwner, ReusingOwnerGetsItsFreedBlockBackForTheSameSize) {
  MemoryOwner owner(/*reuse_blocks=*/true);
  OwnerScope scope(owner);
  auto t = mib_tensor(4);
  const void* block = t.data_ptr();
  t = torch::Tensor();
  EXPECT_EQ(owner.current_bytes(), 0);  // kept, not live
  EXPECT_EQ(owner.kept_bytes(), 4 * kMiB);
  auto again = mib_tensor(4);
  EXPECT_EQ(again.data_ptr(), block);
  EXPECT_EQ(owner.kept_bytes(), 0);
  EXPECT_EQ(owner.current_bytes(), 4 * kMiB);
  auto other = mib_tensor(3);  // another size never gets a kept block
  EXPECT_NE(other.data_ptr(), block);
}

TEST(MemoryOwner, KeepsNothingWithoutReuseNorSmallBlocks) {
  MemoryOwner plain, reusing(/*reuse_blocks=*/true);
  {
    OwnerScope scope(plain);
    mib_tensor(4);
  }
  EXPECT_EQ(plain.kept_bytes(), 0);
  OwnerScope scope(reusing);
  torch::empty({static_cast<int64_t>(MemoryOwner::kReusedBlockBytes / 4) - 1}, torch::kFloat32);
  EXPECT_EQ(reusing.kept_bytes(), 0);
}

TEST(MemoryOwner, KeptBytesNeverExceedTwiceTheMostTheOwnerHadLive) {
  MemoryOwner owner(/*reuse_blocks=*/true);
  OwnerScope scope(owner);
  {
    auto a = mib_tensor(4), b = mib_tensor(4);  // 8 MiB live at most: 16 may be kept
  }
  EXPECT_EQ(owner.kept_bytes(), 8 * kMiB);
  { auto c = mib_tensor(6); }
  EXPECT_EQ(owner.kept_bytes(), 14 * kMiB);
  { auto d = mib_tensor(3); }  // 17 kept would be over 2 x 8
  EXPECT_EQ(owner.kept_bytes(), 14 * kMiB);
  // Freed on another thread, a block still goes back to its owner.
  auto e = mib_tensor(4);
  EXPECT_EQ(owner.kept_bytes(), 10 * kMiB);
  std::thread([t = std::move(e)]() mutable { t = torch::Tensor(); }).join();
  EXPECT_EQ(owner.kept_bytes(), 14 * kMiB);
}
