#include "adaptation_worker.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <exception>
#include <stdexcept>
#include <utility>

#include <ATen/Parallel.h>
#include <torch/torch.h>

namespace ecotta::stream {

namespace {
bool all_finite(const std::vector<torch::Tensor>& tensors) {
  for (const auto& t : tensors)
    if (t.is_floating_point() && !torch::isfinite(t).all().item<bool>()) return false;
  return true;
}
}  // namespace

AdaptationWorker::AdaptationWorker(adapt::Method& trainer, adapt::SampleBuffer& buffer,
                                   adapt::SnapshotPublisher& publisher, const WorkerConfig& config)
    : trainer_(trainer), buffer_(buffer), publisher_(publisher), config_(config) {
  last_checkpoint_ = std::chrono::steady_clock::now();
  requested_cap_.store(config.cap);
  stats_.cap = config.cap;
  stats_.plan_text = config.plan_text;
  thread_ = std::thread([this] { run(); });
}

AdaptationWorker::~AdaptationWorker() { stop(); }

void AdaptationWorker::set_enabled(bool on) {
  enabled_.store(on);
  wake_.notify_one();
}

void AdaptationWorker::set_memory_cap(int64_t bytes) {
  if (!config_.planner) throw std::logic_error("this adaptation worker cannot change its memory cap");
  requested_cap_.store(std::max<int64_t>(0, bytes));
  cap_changed_.store(true);
  wake_.notify_one();
}

std::vector<AdaptationWorker::Notice> AdaptationWorker::take_notices() {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  return std::exchange(notices_, {});
}

void AdaptationWorker::notify_sample() {
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    ++new_samples_;
  }
  wake_.notify_one();
}

void AdaptationWorker::stop() {
  stopping_.store(true);
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

WorkerStats AdaptationWorker::stats() const {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  WorkerStats out = stats_;
  out.kept_bytes = owner_.kept_bytes();
  return out;
}

void AdaptationWorker::run() {
  // LibTorch's intra-op thread count is per thread under OpenMP: the worker
  // takes the cores inference leaves, and yields to the video when both
  // want the same core (nice applies to this thread alone on Linux).
  at::set_num_threads(std::max(1, config_.threads));
  if (config_.lower_priority) setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  memory::OwnerScope scope(owner_);
  while (!stopping_.load()) {
    bool go = false;
    {
      std::unique_lock<std::mutex> lock(wake_mutex_);
      const auto ready = [&] {
        return enabled_.load() && !paused_ && new_samples_ > 0 &&
               static_cast<int64_t>(buffer_.size()) >= std::min<int64_t>(config_.batch, buffer_.capacity());
      };
      wake_.wait_for(lock, std::chrono::milliseconds(200),
                     [&] { return stopping_.load() || save_requested_.load() || cap_changed_.load() || ready(); });
      if (stopping_.load()) break;
      if (ready()) {
        new_samples_ = 0;
        go = true;
      }
    }
    // Nothing may escape this thread: an exception here would terminate
    // the whole application (the video with it).
    try {
      if (cap_changed_.exchange(false)) {
        apply_cap(requested_cap_.load());
        go = go && !paused_;
      }
      if (go) step();
      maybe_checkpoint();
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      stats_.last_error = e.what();
    } catch (...) {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      stats_.last_error = "unknown error in the adaptation worker";
    }
  }
}

void AdaptationWorker::step() {
  const auto batch = buffer_.batch(static_cast<size_t>(config_.batch));
  if (!batch.defined() || batch.numel() == 0) return;
  const auto start = std::chrono::steady_clock::now();
  owner_.reset_peak();
  const int64_t base = owner_.current_bytes();
  trainer_.forward_and_adapt(batch);
  const int64_t bytes = owner_.peak_bytes() - base;
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  // forward_and_adapt drops non-finite updates, but the forward has moved
  // the normalization statistics already: a batch with a non-finite sample
  // leaves them non-finite. Such a state is never published; the last
  // published one (the state before this step) goes back into the trainer,
  // so one bad batch costs one step, not the adaptation so far.
  auto state = trainer_.adapted_state();
  std::string error;
  if (!all_finite(state)) {
    const auto last = publisher_.current();
    if (last) {
      adapt::apply_snapshot(*last, state, nullptr);
    } else {
      trainer_.reset();
    }
    error = "a step left non-finite statistics (a non-finite sample?); the step was dropped and the last good "
            "adapted state kept";
  } else {
    publisher_.publish(state);
    dirty_ = true;
  }
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.steps = trainer_.steps();
  stats_.skipped = trainer_.skipped_steps();
  stats_.resets = trainer_.resets();
  stats_.last_step_bytes = bytes;
  stats_.peak_step_bytes = std::max(stats_.peak_step_bytes, bytes);
  const double n = static_cast<double>(stats_.steps);
  stats_.mean_step_ms += (ms - stats_.mean_step_ms) / std::max(1.0, n);
  if (!error.empty()) stats_.last_error = error;
}

void AdaptationWorker::apply_cap(int64_t cap) {
  StepPlan plan;
  try {
    // Calibration steps charge their own owner: their blocks must not stay
    // behind as the worker's kept blocks.
    memory::MemoryOwner calibration;
    memory::OwnerScope scope(calibration);
    plan = config_.planner(cap);
    if (!plan.paused) trainer_.set_first_trained_part(plan.first_trained_part);
  } catch (const std::exception& e) {
    plan = StepPlan{};
    plan.cap = cap;
    plan.paused = true;
    plan.text = std::string("cannot plan steps within the cap: ") + e.what();
  }
  paused_ = plan.paused;
  if (!plan.paused) config_.batch = plan.batch;
  std::string notice = "memory-cap " + (cap > 0 ? std::to_string(cap) + " bytes" : std::string("removed")) + ": ";
  if (plan.paused)
    notice += plan.text + "; adaptation paused (predictions keep the last adapted state) until memory-cap is raised";
  else
    notice += plan.text.empty() ? std::to_string(plan.batch) + " samples per step" : plan.text;
  std::lock_guard<std::mutex> lock(stats_mutex_);
  stats_.cap = cap;
  stats_.plan_text = plan.text;
  stats_.paused = plan.paused;
  stats_.peak_step_bytes = 0;  // the peak under this plan
  notices_.push_back({plan.paused, std::move(notice)});
}

void AdaptationWorker::maybe_checkpoint() {
  const double interval = checkpoint_interval_s_.load();
  const bool requested = save_requested_.exchange(false);
  if (config_.checkpoint_path.empty() || !dirty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!requested && (interval <= 0 || std::chrono::duration<double>(now - last_checkpoint_).count() < interval)) return;
  last_checkpoint_ = now;
  save_checkpoint();
}

void AdaptationWorker::save_checkpoint() {
  if (config_.checkpoint_path.empty()) return;
  try {
    trainer_.save_state(config_.checkpoint_path);  // atomic: temp file + rename
  } catch (const std::exception& e) {
    // The previous checkpoint is untouched; the next interval tries again.
    throw std::runtime_error(std::string("checkpoint not saved (the previous one is kept): ") + e.what());
  }
  dirty_ = false;
  std::lock_guard<std::mutex> lock(stats_mutex_);
  ++stats_.checkpoints_written;
}

}  // namespace ecotta::stream
