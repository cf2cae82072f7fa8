// The process's inference gate: never more frames in inference than slots,
// and first come, first served.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "stream/inference_gate.h"

namespace ecotta::stream {
namespace {

TEST(InferenceGate, NeverMoreFramesInInferenceThanSlots) {
  InferenceGate gate(3);
  std::atomic<int> inside{0}, most{0};
  std::vector<std::thread> cameras;
  for (int c = 0; c < 12; ++c)
    cameras.emplace_back([&] {
      for (int i = 0; i < 40; ++i) {
        const InferenceGate::Pass pass(gate);
        const int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(300));
        --inside;
      }
    });
  for (auto& t : cameras) t.join();
  EXPECT_EQ(most.load(), 3);  // all slots used, none more
  EXPECT_EQ(gate.waiting(), 0);
}

TEST(InferenceGate, FramesPassInTheOrderTheyArrived) {
  InferenceGate gate(1);
  std::mutex mutex;
  std::vector<int> order;
  auto held = std::make_unique<InferenceGate::Pass>(gate);
  std::vector<std::thread> cameras;
  for (int c = 0; c < 5; ++c) {
    cameras.emplace_back([&, c] {
      const InferenceGate::Pass pass(gate);
      std::lock_guard<std::mutex> lock(mutex);
      order.push_back(c);
    });
    // The next camera arrives only once this one is queued.
    while (gate.waiting() < c + 1) std::this_thread::yield();
  }
  held.reset();
  for (auto& t : cameras) t.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(InferenceGate, TheProcessGateHasTwoSlotsPerCpuAndZeroSlotsIsRefused) {
  EXPECT_EQ(process_inference_gate().slots() % 2, 0);
  EXPECT_GE(process_inference_gate().slots(), 2);
  EXPECT_THROW(InferenceGate(0), std::invalid_argument);
}

}  // namespace
}  // namespace ecotta::stream
