#pragma once
// The adaptation side of the streaming engine: a thread that takes batches
// from a camera's sample buffer, steps that camera's trainer method within
// the memory plan, publishes a snapshot of its adapted state after each good
// step and saves its checkpoints. It never touches a frame and never blocks
// a caller. One worker serves one camera (an engine of its own) or every
// camera of an adaptation group, one step at a time (camera_scheduler.h),
// so the group's adaptation memory is one step's worth under one cap.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
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
// may throw (the camera then pauses until a cap it can plan).
using StepPlanner = std::function<StepPlan(int64_t cap)>;

// One camera the worker adapts for. The pointers outlive its membership.
struct CameraConfig {
  std::string name;  // for messages
  adapt::Method* trainer = nullptr;
  adapt::SampleBuffer* buffer = nullptr;
  adapt::SnapshotPublisher* publisher = nullptr;
  int64_t cap = 0;      // this camera's memory-cap; a group steps under its members' smallest non-zero one
  StepPlan plan;        // the camera's plan at start (under `cap`)
  StepPlanner planner;  // empty: its plan cannot change
  std::string checkpoint_path;
  double checkpoint_interval = 60;
  bool enabled = true;
};

struct WorkerConfig {
  int threads = 1;  // LibTorch intra-op threads of the worker
  bool lower_priority = true;
};

// One camera's adaptation, and its group's.
struct WorkerStats {
  int64_t steps = 0, skipped = 0, resets = 0;
  int64_t peak_step_bytes = 0, last_step_bytes = 0;
  double mean_step_ms = 0;
  int64_t checkpoints_written = 0;
  std::string last_error;
  // The plan the camera's steps run under now; peak_step_bytes counts from
  // when it took effect.
  int64_t cap = 0;
  std::string plan_text;
  bool paused = false;
  // The group (a worker of one camera is a group of one).
  int64_t group_cameras = 1;
  int64_t group_steps = 0;
  int64_t group_peak_step_bytes = 0;  // under the group's present cap
  int64_t kept_bytes = 0;             // freed blocks the worker keeps for its next steps
};

class AdaptationWorker {
 public:
  using CameraId = uint64_t;
  struct Notice {  // a message for a person: a warning (a pause) or news (a new plan)
    bool warning = false;
    std::string text;
  };

  explicit AdaptationWorker(const WorkerConfig& config);
  ~AdaptationWorker();  // stop()
  AdaptationWorker(const AdaptationWorker&) = delete;
  AdaptationWorker& operator=(const AdaptationWorker&) = delete;

  CameraId add_camera(const CameraConfig& camera);
  // The worker stops serving the camera (after a step of it in flight);
  // its trainer is the caller's again. Returns its last statistics.
  WorkerStats remove_camera(CameraId id);

  void set_enabled(CameraId id, bool on);
  void set_checkpoint_interval(CameraId id, double seconds);
  // Save at the worker's next turn, whatever the interval.
  void request_checkpoint(CameraId id);
  // The camera's memory cap (0: none). The group's cap is its members'
  // smallest non-zero one; every camera is planned under it before its next
  // step (calibration on the worker's thread, never the caller's).
  void set_memory_cap(CameraId id, int64_t bytes);
  // The camera's messages, oldest first, each returned once.
  std::vector<Notice> take_notices(CameraId id);
  // The camera offered a new sample; `mean_entropy` is its running mean of
  // H / ln C, which the scheduler weighs. May wake the worker.
  void notify_sample(CameraId id, double mean_entropy);
  WorkerStats stats(CameraId id) const;
  // The same for a streaming thread, which must never wait on the worker:
  // the worker runs at a lower priority and can be preempted holding its
  // lock, so these give up (false) when the lock is taken; the caller
  // tries again with its next frame.
  bool try_notify_samples(CameraId id, int64_t count, double mean_entropy);
  bool try_stats(CameraId id, WorkerStats& out) const;
  size_t cameras() const;
  // Joins the thread; the cameras' trainers are their callers' again.
  void stop();

 private:
  struct Camera;
  void run();
  std::shared_ptr<Camera> find(CameraId id) const;  // mutex_ held
  WorkerStats stats_locked(CameraId id) const;       // mutex_ held
  void add_samples(CameraId id, int64_t count, double mean_entropy);  // mutex_ held
  std::shared_ptr<Camera> next_ready();              // mutex_ held
  bool claim(const std::shared_ptr<Camera>& c);      // false: it is leaving
  void release();
  void plan(Camera& c, int64_t cap);
  void step(Camera& c);
  void save_checkpoint(Camera& c);
  void update_group_cap();  // mutex_ held

  WorkerConfig config_;
  memory::MemoryOwner owner_{/*reuse_blocks=*/true};  // a step's blocks come back next step

  mutable std::mutex mutex_;  // the cameras, their signals, the group's cap and counters
  std::condition_variable wake_, released_;
  std::map<CameraId, std::shared_ptr<Camera>> cameras_;
  CameraId next_id_ = 1;
  const Camera* busy_ = nullptr;  // the camera whose trainer the worker uses now
  int64_t group_cap_ = 0;
  int64_t group_steps_ = 0, group_peak_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

// The worker of adaptation group `name`, shared by every engine of the
// process that names it: made (with `config`) by the first, stopped when
// the last lets go.
std::shared_ptr<AdaptationWorker> group_worker(const std::string& name, const WorkerConfig& config);

}  // namespace ecotta::stream
