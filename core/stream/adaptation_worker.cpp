#include "adaptation_worker.h"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <limits>
#include <stdexcept>
#include <utility>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "camera_scheduler.h"

namespace ecotta::stream {

namespace {
bool all_finite(const std::vector<torch::Tensor>& tensors) {
  for (const auto& t : tensors)
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) return false;
  return true;
}
}  // namespace

struct AdaptationWorker::Camera {
  CameraId id = 0;
  CameraConfig config;
  // Guarded by mutex_.
  bool enabled = true, leaving = false, save_requested = false;
  int64_t new_samples = 0;
  double entropy = 0, entropy_at_last_step = 0;
  int64_t last_step_at = 0;  // the group's step count after its last step
  double checkpoint_interval = 60;
  int64_t cap_setting = 0;
  WorkerStats stats;
  std::vector<Notice> notices;
  // The plan its steps run under and the group cap it was made for. Written
  // by the worker thread only (next_ready reads them there too).
  StepPlan plan;
  int64_t planned_cap = 0;
  // Worker thread only.
  bool dirty = false;  // adapted since the last checkpoint
  std::chrono::steady_clock::time_point last_checkpoint;
};

AdaptationWorker::AdaptationWorker(const WorkerConfig& config) : config_(config) {
  thread_ = std::thread([this] { run(); });
}

AdaptationWorker::~AdaptationWorker() { stop(); }

std::shared_ptr<AdaptationWorker::Camera> AdaptationWorker::find(CameraId id) const {
  const auto it = cameras_.find(id);
  return it == cameras_.end() ? nullptr : it->second;
}

AdaptationWorker::CameraId AdaptationWorker::add_camera(const CameraConfig& camera) {
  if (!camera.trainer || !camera.buffer || !camera.publisher)
    throw std::invalid_argument("add_camera: a camera needs a trainer, a sample buffer and a publisher");
  auto c = std::make_shared<Camera>();
  c->config = camera;
  c->enabled = camera.enabled;
  c->checkpoint_interval = camera.checkpoint_interval;
  c->cap_setting = std::max<int64_t>(0, camera.cap);
  c->plan = camera.plan;
  c->planned_cap = c->plan.cap;
  c->stats.cap = c->plan.cap;
  c->stats.plan_text = c->plan.text;
  c->stats.paused = c->plan.paused;
  c->last_checkpoint = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  c->id = next_id_++;
  c->last_step_at = group_steps_;
  cameras_.emplace(c->id, c);
  update_group_cap();
  wake_.notify_one();
  return c->id;
}

WorkerStats AdaptationWorker::remove_camera(CameraId id) {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto c = find(id);
  if (!c) return {};
  c->leaving = true;
  released_.wait(lock, [&] { return busy_ != c.get(); });
  cameras_.erase(id);
  update_group_cap();
  wake_.notify_one();
  return c->stats;
}

void AdaptationWorker::update_group_cap() {
  int64_t cap = 0;
  for (const auto& [id, c] : cameras_)
    if (c->cap_setting > 0) cap = cap == 0 ? c->cap_setting : std::min(cap, c->cap_setting);
  if (cap != group_cap_) group_peak_ = 0;  // the peak under the new cap
  group_cap_ = cap;
}

void AdaptationWorker::set_enabled(CameraId id, bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (const auto c = find(id)) c->enabled = on;
  wake_.notify_one();
}

void AdaptationWorker::set_checkpoint_interval(CameraId id, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (const auto c = find(id)) c->checkpoint_interval = seconds;
}

void AdaptationWorker::request_checkpoint(CameraId id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (const auto c = find(id)) c->save_requested = true;
  wake_.notify_one();
}

void AdaptationWorker::set_memory_cap(CameraId id, int64_t bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto c = find(id);
  if (!c) return;
  if (!c->config.planner) throw std::logic_error("this camera's adaptation cannot change its memory cap");
  c->cap_setting = std::max<int64_t>(0, bytes);
  const int64_t before = group_cap_;
  update_group_cap();
  // The same cap again is news too: say the plan it gives.
  if (group_cap_ == before) c->planned_cap = -1;
  wake_.notify_one();
}

std::vector<AdaptationWorker::Notice> AdaptationWorker::take_notices(CameraId id) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto c = find(id);
  return c ? std::exchange(c->notices, {}) : std::vector<Notice>{};
}

void AdaptationWorker::add_samples(CameraId id, int64_t count, double mean_entropy) {
  if (const auto c = find(id)) {
    c->new_samples += count;
    c->entropy = mean_entropy;
  }
}

void AdaptationWorker::notify_sample(CameraId id, double mean_entropy) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    add_samples(id, 1, mean_entropy);
  }
  wake_.notify_one();
}

bool AdaptationWorker::try_notify_samples(CameraId id, int64_t count, double mean_entropy) {
  {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    add_samples(id, count, mean_entropy);
  }
  wake_.notify_one();
  return true;
}

bool AdaptationWorker::try_stats(CameraId id, WorkerStats& out) const {
  std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  out = stats_locked(id);
  return true;
}

WorkerStats AdaptationWorker::stats(CameraId id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_locked(id);
}

WorkerStats AdaptationWorker::stats_locked(CameraId id) const {
  const auto c = find(id);
  WorkerStats out = c ? c->stats : WorkerStats{};
  out.group_cameras = static_cast<int64_t>(cameras_.size());
  out.group_steps = group_steps_;
  out.group_peak_step_bytes = group_peak_;
  out.kept_bytes = owner_.kept_bytes();
  return out;
}

size_t AdaptationWorker::cameras() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cameras_.size();
}

void AdaptationWorker::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<AdaptationWorker::Camera> AdaptationWorker::next_ready() {
  std::vector<std::shared_ptr<Camera>> ready;
  std::vector<CameraTurn> turns;
  for (const auto& [id, c] : cameras_) {
    const auto want = std::min<int64_t>(c->plan.batch, static_cast<int64_t>(c->config.buffer->capacity()));
    if (!c->enabled || c->leaving || c->plan.paused || c->planned_cap != group_cap_ || c->new_samples == 0 ||
        static_cast<int64_t>(c->config.buffer->size()) < want)
      continue;
    ready.push_back(c);
    turns.push_back({c->entropy, c->entropy_at_last_step, group_steps_ - c->last_step_at});
  }
  if (ready.empty()) return nullptr;
  auto c = ready[choose_camera(turns, cameras_.size())];
  c->new_samples = 0;
  c->entropy_at_last_step = c->entropy;
  return c;
}

void AdaptationWorker::run() {
  // LibTorch's intra-op thread count is per thread under OpenMP: the worker
  // takes the cores inference leaves, and yields to the video when both
  // want the same core (nice applies to this thread alone on Linux).
  at::set_num_threads(std::max(1, config_.threads));
  if (config_.lower_priority) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  memory::OwnerScope scope(owner_);
  std::unique_lock<std::mutex> lock(mutex_);
  // Runs `work` on camera `c` without the lock, marked busy so that the
  // camera cannot leave meanwhile. Nothing may escape this thread: an
  // exception would terminate the whole application (the video with it).
  const auto with_camera = [&](const std::shared_ptr<Camera>& c, const auto& work) {
    if (c->leaving) return;
    busy_ = c.get();
    lock.unlock();
    std::string error;
    try {
      work();
    } catch (const std::exception& e) {
      error = e.what();
    } catch (...) {
      error = "unknown error in the adaptation worker";
    }
    lock.lock();
    busy_ = nullptr;
    if (!error.empty()) c->stats.last_error = error;
    released_.notify_all();
  };
  const auto pending = [&] {
    if (stopping_) return true;
    for (const auto& [id, c] : cameras_) {
      if (c->leaving) continue;
      if (c->planned_cap != group_cap_ || c->save_requested) return true;
      if (c->enabled && !c->plan.paused && c->new_samples > 0 &&
          static_cast<int64_t>(c->config.buffer->size()) >=
              std::min<int64_t>(c->plan.batch, static_cast<int64_t>(c->config.buffer->capacity())))
        return true;
    }
    return false;
  };
  auto last_trim = std::chrono::steady_clock::now();
  while (!stopping_) {
    // The periodic checkpoints need a turn even when nothing else happens.
    wake_.wait_for(lock, std::chrono::milliseconds(200), pending);
    if (stopping_) break;
    std::vector<std::shared_ptr<Camera>> all;
    for (const auto& [id, c] : cameras_) all.push_back(c);
    for (const auto& c : all) {
      if (c->planned_cap == group_cap_) continue;
      const int64_t cap = group_cap_;
      with_camera(c, [&] { plan(*c, cap); });
    }
    if (const auto c = next_ready()) with_camera(c, [&] { step(*c); });
    for (const auto& c : all) {
      const bool requested = std::exchange(c->save_requested, false);
      const double interval = c->checkpoint_interval;
      const auto due = std::chrono::steady_clock::now() - c->last_checkpoint;
      if (c->config.checkpoint_path.empty() || !c->dirty) continue;
      if (!requested && (interval <= 0 || std::chrono::duration<double>(due).count() < interval)) continue;
      with_camera(c, [&] { save_checkpoint(*c); });
    }
    // Every camera's streaming thread frees its frames' tensors into an
    // allocator arena of its own, which keeps the free pages: handed back
    // every few seconds, 1.4 MiB less per added camera at 8 cameras
    // (docs/multi-camera.md).
    if (std::chrono::steady_clock::now() - last_trim > std::chrono::seconds(2)) {
      lock.unlock();
      malloc_trim(0);
      lock.lock();
      last_trim = std::chrono::steady_clock::now();
    }
  }
}

void AdaptationWorker::step(Camera& c) {
  auto& trainer = *c.config.trainer;
  const auto batch = c.config.buffer->batch(static_cast<size_t>(c.plan.batch));
  if (!batch.defined() || batch.numel() == 0) return;
  const auto start = std::chrono::steady_clock::now();
  owner_.reset_peak();
  const int64_t base = owner_.current_bytes();
  trainer.forward_and_adapt(batch);
  const int64_t bytes = owner_.peak_bytes() - base;
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  // forward_and_adapt drops non-finite updates, but the forward has moved
  // the normalization statistics already: a batch with a non-finite sample
  // leaves them non-finite. Such a state is never published; the last
  // published one (the state before this step) goes back into the trainer,
  // so one bad batch costs one step, not the adaptation so far.
  auto state = trainer.adapted_state();
  std::string error;
  if (!all_finite(state)) {
    const auto last = c.config.publisher->current();
    if (last) {
      adapt::apply_snapshot(*last, state, nullptr);
    } else {
      trainer.reset();
    }
    error = "a step left non-finite statistics (a non-finite sample?); the step was dropped and the last good "
            "adapted state kept";
  } else {
    c.config.publisher->publish(state);
    c.dirty = true;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  auto& s = c.stats;
  s.steps = trainer.steps();
  s.skipped = trainer.skipped_steps();
  s.resets = trainer.resets();
  s.last_step_bytes = bytes;
  s.peak_step_bytes = std::max(s.peak_step_bytes, bytes);
  s.mean_step_ms += (ms - s.mean_step_ms) / std::max(1.0, static_cast<double>(s.steps));
  if (!error.empty()) s.last_error = error;
  ++group_steps_;
  group_peak_ = std::max(group_peak_, bytes);
  c.last_step_at = group_steps_;
}

void AdaptationWorker::plan(Camera& c, int64_t cap) {
  StepPlan p;
  try {
    if (!c.config.planner) throw std::runtime_error("this camera's steps cannot be planned again");
    {
      // Calibration steps charge their own owner: their blocks must not
      // stay behind as the worker's kept blocks.
      memory::MemoryOwner calibration;
      memory::OwnerScope scope(calibration);
      p = c.config.planner(cap);
    }
    if (!p.paused) c.config.trainer->set_first_trained_part(p.first_trained_part);
  } catch (const std::exception& e) {
    p = StepPlan{};
    p.cap = cap;
    p.paused = true;
    p.text = std::string("cannot plan steps within the cap: ") + e.what();
  }
  std::string notice = "memory-cap " + (cap > 0 ? std::to_string(cap) + " bytes" : std::string("removed")) + ": ";
  if (p.paused)
    notice += p.text + "; adaptation paused (predictions keep the last adapted state) until memory-cap is raised";
  else
    notice += p.text.empty() ? std::to_string(p.batch) + " samples per step" : p.text;
  std::lock_guard<std::mutex> lock(mutex_);
  c.plan = p;
  c.planned_cap = cap;
  auto& s = c.stats;
  s.cap = cap;
  s.plan_text = p.text;
  s.paused = p.paused;
  s.peak_step_bytes = 0;  // the peak under this plan
  c.notices.push_back({p.paused, std::move(notice)});
}

void AdaptationWorker::save_checkpoint(Camera& c) {
  c.last_checkpoint = std::chrono::steady_clock::now();
  try {
    c.config.trainer->save_state(c.config.checkpoint_path);  // atomic: temp file + rename
  } catch (const std::exception& e) {
    // The previous checkpoint is untouched; the next interval tries again.
    throw std::runtime_error(std::string("checkpoint not saved (the previous one is kept): ") + e.what());
  }
  c.dirty = false;
  std::lock_guard<std::mutex> lock(mutex_);
  ++c.stats.checkpoints_written;
}

std::shared_ptr<AdaptationWorker> group_worker(const std::string& name, const WorkerConfig& config) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<AdaptationWorker>> groups;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = groups[name];
  auto worker = slot.lock();
  if (!worker) {
    worker = std::make_shared<AdaptationWorker>(config);
    slot = worker;
  }
  return worker;
}

}  // namespace ecotta::stream
