#pragma once
// The adaptation side of the streaming engine: a thread that takes batches
// from the sample buffer, steps the trainer method within the memory plan,
// publishes a snapshot of the adapted state after each good step and saves
// checkpoints. It never touches a frame and never blocks the caller.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapt/method.h"
#include "adapt/sample_buffer.h"
#include "adapt/snapshot.h"
#include "memory/counting_allocator.h"

namespace ecotta::stream {

// How steps run under a memory cap; the engine plans it (engine.cpp).
struct StepPlan {
  int64_t cap = 0;                // bytes one step may use; 0: no cap
  int64_t batch = 16;             // samples per step
  size_t first_trained_part = 0;  // parts before it do not train (EcoTTA)
  bool paused = false;            // no step fits the cap: none is taken
  std::string text;               // the plan in words; "" without a cap
};
// Plans steps within a new cap. Runs on the worker thread, between steps;
// may throw (the worker then pauses until a cap it can plan).
using StepPlanner = std::function<StepPlan(int64_t cap)>;

struct WorkerConfig {
  int64_t batch = 16;        // samples per step under the plan at start
  int64_t cap = 0;           // that plan's cap (0: none) and its words
  std::string plan_text;
  StepPlanner planner;       // empty: the cap cannot change
  int threads = 1;           // LibTorch intra-op threads of the worker
  bool lower_priority = true;
  std::string checkpoint_path;
};

struct WorkerStats {
  int64_t steps = 0, skipped = 0, resets = 0;
  int64_t peak_step_bytes = 0, last_step_bytes = 0;
  double mean_step_ms = 0;
  int64_t checkpoints_written = 0;
  int64_t kept_bytes = 0;  // freed blocks the worker keeps for its next steps
  std::string last_error;
  // The plan steps run under now; peak_step_bytes counts from when it
  // took effect.
  int64_t cap = 0;
  std::string plan_text;
  bool paused = false;
};

class AdaptationWorker {
 public:
  // `trainer` and `buffer` and `publisher` outlive the worker.
  AdaptationWorker(adapt::Method& trainer, adapt::SampleBuffer& buffer, adapt::SnapshotPublisher& publisher,
                   const WorkerConfig& config);
  ~AdaptationWorker();  // stop()

  void set_enabled(bool on);
  bool enabled() const { return enabled_.load(); }
  void set_checkpoint_interval(double seconds) { checkpoint_interval_s_.store(seconds); }
  // Save at the worker's next turn, whatever the interval.
  void request_checkpoint() {
    save_requested_.store(true);
    wake_.notify_one();
  }
  // A new cap for every step from the next one on (0: none): the worker
  // plans it before its next step (calibration steps on its own thread,
  // never the caller's). Needs config.planner.
  void set_memory_cap(int64_t bytes);
  // Messages for a person, oldest first, each returned once: warnings (a
  // pause) and news (a new plan).
  struct Notice {
    bool warning = false;
    std::string text;
  };
  std::vector<Notice> take_notices();
  // The streaming thread offered a new sample: may wake the worker.
  void notify_sample();
  // Joins the thread; then the trainer may be used by the caller again.
  void stop();
  // Saves the trainer's state to the checkpoint path (after stop(), or from
  // the worker itself). Throws on failure.
  void save_checkpoint();
  WorkerStats stats() const;

 private:
  void run();
  void step();
  void maybe_checkpoint();
  void apply_cap(int64_t cap);

  adapt::Method& trainer_;
  adapt::SampleBuffer& buffer_;
  adapt::SnapshotPublisher& publisher_;
  WorkerConfig config_;
  memory::MemoryOwner owner_{/*reuse_blocks=*/true};  // a step's blocks come back next step

  std::atomic<bool> enabled_{true};
  std::atomic<bool> stopping_{false};
  std::atomic<double> checkpoint_interval_s_{60};
  std::atomic<bool> save_requested_{false};
  std::atomic<int64_t> requested_cap_{0};
  std::atomic<bool> cap_changed_{false};
  bool paused_ = false;  // worker thread only
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  int64_t new_samples_ = 0;  // guarded by wake_mutex_
  std::chrono::steady_clock::time_point last_checkpoint_;
  bool dirty_ = false;  // adapted since the last checkpoint (worker thread only)

  mutable std::mutex stats_mutex_;
  WorkerStats stats_;
  std::vector<Notice> notices_;  // guarded by stats_mutex_
  std::thread thread_;
};

}  // namespace ecotta::stream
