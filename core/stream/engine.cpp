#include "engine.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <malloc.h>
#include <mutex>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "adapt/memory_planner.h"
#include "adapt/method_defaults.h"
#include "adapt/method_registry.h"
#include "adapt/methods.h"
#include "adapt/sample_buffer.h"
#include "adapt/snapshot.h"
#include "memory/counting_allocator.h"
#include "adaptation_worker.h"
#include "inference_gate.h"
#include "model/bundle.h"
#include "model/shared_weights.h"

namespace ecotta::stream {

namespace {

model::Bundle load_for_stream(const std::string& path, const torch::Device& device) {
  model::Bundle bundle;
  try {
    bundle = model::load_bundle(path);
  } catch (const std::exception& e) {
    throw EngineError(std::string("model: ") + e.what());
  }
  // Frames come one at a time: every BN layer runs on an EMA of test
  // statistics anchored at the source ones, never one frame's statistics.
  bundle.info.normalization = model::NormMode::Robust;
  if (device.is_cuda()) {
    bundle.model->to(device);
    if (bundle.meta) bundle.meta->to(device);
    for (auto& t : bundle.robust_anchor) t = t.to(device);
  }
  return bundle;
}

adapt::MethodOptions method_options(const EngineConfig& c, model::Task task) {
  adapt::MethodOptions o;
  o.baseline_norm = model::NormMode::Robust;
  // The table's rates for frames or segmentation (method_defaults.h);
  // learning-rate, when set, is the chosen method's whatever it is.
  auto rates = adapt::learning_rates(task == model::Task::Segment ? adapt::Setting::Segmentation : adapt::Setting::Frames);
  if (c.learning_rate >= 0) rates = {c.learning_rate, c.learning_rate, c.learning_rate, c.learning_rate, c.learning_rate};
  adapt::set_learning_rates(o, rates);
  if (c.reg_weight >= 0) o.ecotta.lambda = c.reg_weight;
  if (c.entropy_margin >= 0) {
    o.ecotta.entropy_margin = c.entropy_margin;
    o.eata_entropy_margin = c.entropy_margin;
  }
  return o;
}

torch::Device parse_device(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw EngineError("device=cuda: this LibTorch build has no CUDA support or no GPU is visible; use device=cpu");
    return torch::Device(torch::kCUDA, 0);
  }
  throw EngineError("device='" + name + "': use cpu or cuda");
}

// Mean entropy / ln C over the positions of `log_probs` (classes first).
float normalized_entropy(const torch::Tensor& log_probs, int64_t classes) {
  const auto h = -(log_probs.exp() * log_probs).sum(0);
  return static_cast<float>(h.mean().item<double>() / std::log(static_cast<double>(std::max<int64_t>(classes, 2))));
}

std::vector<std::string> read_labels(const std::string& path, size_t classes) {
  std::ifstream in(path);
  if (!in) throw EngineError("labels-file '" + path + "': cannot open it");
  std::vector<std::string> labels;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) labels.push_back(line);
  }
  if (labels.size() != classes)
    throw EngineError("labels-file '" + path + "': holds " + std::to_string(labels.size()) +
                      " labels (one a line), the model has " + std::to_string(classes) + " classes");
  return labels;
}

std::shared_ptr<memory::MemoryOwner> shared_inference_owner() {
  static std::mutex mutex;
  static std::weak_ptr<memory::MemoryOwner> shared;
  std::lock_guard<std::mutex> lock(mutex);
  auto owner = shared.lock();
  if (!owner) {
    owner = std::make_shared<memory::MemoryOwner>(/*reuse_blocks=*/true);
    shared = owner;
  }
  return owner;
}

}  // namespace

namespace {
constexpr const char* kAuto = "auto";
}

const std::vector<std::string>& method_names() {
  static const auto names = [] {
    auto n = adapt::method_names();
    n.emplace_back(kAuto);
    return n;
  }();
  return names;
}

std::string method_summary(const std::string& name) {
  if (name == kAuto) return "The validated default for the model's task: ecotta for classifiers, norm for segmenters";
  return adapt::method_entry(name).summary;
}

struct Engine::Impl {
  EngineConfig config;
  torch::Device device{torch::kCPU};
  model::Bundle reader_bundle, trainer_bundle;
  std::unique_ptr<adapt::Method> reader, trainer;
  std::vector<torch::Tensor> reader_state;
  uint64_t seen = 0;
  std::unique_ptr<adapt::SampleBuffer> buffer;
  adapt::SnapshotPublisher publisher;
  std::shared_ptr<AdaptationWorker> worker;  // its own, or its group's
  AdaptationWorker::CameraId camera = 0;
  // What the streaming thread knows of the worker without waiting for it
  // (AdaptationWorker::try_*): adaptation on or off, samples offered and
  // not yet told, the worker's figures at the last frame (process_mutex).
  std::atomic<bool> adapt_on{false};
  int64_t unsent_samples = 0;
  WorkerStats worker_seen;
  WorkerStats left_stats;  // the worker's last figures for this camera, after stop()
  model::WeightShare reader_share, trainer_share;
  model::EqualTensors initial_share;  // the trainer's reset copy, shared by cameras of one model and method
  std::string method_name;
  adapt::MethodOptions options;  // as configured; the trainer's differ in first_trained_part
  torch::Tensor mean, std;
  std::vector<std::string> warnings;
  std::vector<std::string> news;  // the worker's plan changes, for take_news()

  // Inference repeats the same shapes every frame: its blocks are reused
  // instead of mapped and unmapped again (see memory::MemoryOwner). One
  // pool for every engine of the process: its blocks are what inferences
  // in flight at once need (a few, on a few cores), not one set per camera.
  std::shared_ptr<memory::MemoryOwner> inference_owner = shared_inference_owner();
  std::mutex process_mutex;  // one frame at a time; guards everything below
  uint64_t frames = 0, inferences = 0, offered = 0;
  double mean_entropy = -1;
  Prediction last;
  bool have_last = false;
  std::atomic<int> sample_interval{4}, inference_interval{1};
  std::atomic<bool> stopped{false};

  torch::Tensor prepare(const FrameView& frame) {
    const auto& in = reader_bundle.info.input;
    cv::Mat rgb;
    try {
      rgb = frame_to_model_rgb(frame, static_cast<int>(in.width), static_cast<int>(in.height), in.geometry);
    } catch (const std::exception& e) {
      throw EngineError(std::string("frame: ") + e.what());
    }
    // HWC bytes viewed as NCHW: the float copy keeps the channels-last
    // layout the networks run in.
    auto x = torch::from_blob(rgb.data, {1, in.height, in.width, 3}, torch::kUInt8).permute({0, 3, 1, 2});
    x = x.to(device, torch::kFloat).div_(255.0);
    return x.sub_(mean).div_(std);
  }

  // The worker's messages into warnings and news (process_mutex held).
  void collect_worker_notices() {
    if (!worker || stopped) return;
    for (auto& n : worker->take_notices(camera)) (n.warning ? warnings : news).push_back(std::move(n.text));
  }

  // Steps within `cap` bytes (0: none) in plan_memory's degradation order;
  // statistics-only methods by the bytes of one sample. At start a cap too
  // tight for gradient steps turns the method into norm and one too tight
  // for a forward is an error; later (memory-cap changed while playing,
  // on the worker thread) either pauses adaptation instead.
  StepPlan plan_steps(int64_t cap, bool starting) {
    StepPlan p;
    p.cap = std::max<int64_t>(0, cap);
    p.batch = config.adapt_batch;
    if (p.cap == 0 || !adapt::method_entry(method_name).adapts) return p;
    const auto& in = reader_bundle.info.input;
    // Calibration steps on random inputs of the model's shape: a step's
    // memory depends on shapes, not on pixel values.
    torch::manual_seed(0);
    const auto calibration = torch::randn({config.adapt_batch, 3, in.height, in.width}).to(device);
    const std::string cap_text = "memory-cap " + std::to_string(p.cap) + " bytes";
    if (!starting) {
      // Calibration loads the model file again: it must still be ours.
      const auto on_disk = model::load_bundle(config.model);
      if (on_disk.fingerprint != trainer_bundle.fingerprint)
        throw std::runtime_error("the model file '" + config.model +
                                 "' changed since start, so steps cannot be measured; restart the element");
    }
    if (adapt::method_entry(method_name).trains) {
      adapt::MemoryPlan plan;
      try {
        plan = adapt::plan_method_memory(config.model, method_name, options, p.cap, calibration, 2);
      } catch (const std::exception& e) {
        throw EngineError(std::string("memory-cap: ") + e.what());
      }
      p.text = plan.reason;
      if (plan.mode != adapt::MemoryPlan::Mode::StatisticsOnly) {
        p.batch = plan.batch;
        p.first_trained_part = plan.first_trained_part;
        return p;
      }
      if (!starting) {
        p.paused = true;
        p.text = "no gradient step of " + method_name + " fits";
        return p;
      }
      method_name = "norm";
      warnings.push_back(cap_text + ": " + plan.reason);
    }
    // Statistics only: a step is a forward without autograd, its bytes
    // proportional to the batch. Below one sample's worth nothing fits.
    auto probe_bundle = load_for_stream(config.model, device);
    auto probe = adapt::make_method(method_name, probe_bundle, options);
    const int64_t one = adapt::measure_step_bytes(*probe, calibration.slice(0, 0, 1));
    const std::string too_small = "below the " + std::to_string(one) +
                                  " bytes that statistics-only adaptation needs (one batch-1 forward of this model)";
    if (one > p.cap) {
      if (starting) throw EngineError(cap_text + " is " + too_small + ": raise memory-cap or set adapt=false");
      p.paused = true;
      p.text = "the cap is " + too_small;
      return p;
    }
    p.batch = std::clamp<int64_t>(static_cast<int64_t>(0.9 * static_cast<double>(p.cap) / std::max<int64_t>(one, 1)), 1,
                                  config.adapt_batch);
    p.text += (p.text.empty() ? "" : "; ") + std::string("statistics only, ") + std::to_string(p.batch) +
              " samples per step (" + std::to_string(one) + " bytes each)";
    return p;
  }

  // Plans measured once per process for each model, method, batch, device
  // and cap, at start (where a cap too tight turns the method into norm)
  // and later: a plan depends on shapes, never on learning rates or pixels,
  // so sixteen cameras under one cap calibrate once.
  StepPlan cached_plan(int64_t cap, bool starting) {
    if (cap <= 0 || trainer_bundle.fingerprint.empty()) return plan_steps(cap, starting);
    struct Planned {
      StepPlan plan;
      std::string method;
      std::vector<std::string> warnings;
    };
    static std::mutex mutex;
    static std::map<std::string, Planned> planned;
    const auto key = trainer_bundle.fingerprint + "|" + method_name + "|" + std::to_string(config.adapt_batch) + "|" +
                     device.str() + "|" + std::to_string(cap) + (starting ? "|start" : "");
    std::lock_guard<std::mutex> lock(mutex);
    auto it = planned.find(key);
    if (it == planned.end()) {
      // Only a plan at start changes the method or warns (on the caller's
      // thread, before the worker runs); later ones run on the worker.
      const size_t before = starting ? warnings.size() : 0;
      Planned p{plan_steps(cap, starting), method_name, {}};
      if (starting) p.warnings.assign(warnings.begin() + static_cast<std::ptrdiff_t>(before), warnings.end());
      it = planned.emplace(key, std::move(p)).first;
      return it->second.plan;
    }
    if (starting) {
      method_name = it->second.method;
      warnings.insert(warnings.end(), it->second.warnings.begin(), it->second.warnings.end());
    }
    return it->second.plan;
  }

  Prediction predict(const torch::Tensor& x, const FrameView& frame) {
    // The reader reads the snapshot itself, no copy of it.
    if (const auto snap = publisher.current()) adapt::adopt_snapshot(*snap, reader_state, &seen);
    const auto logits = reader->predict(x).to(torch::kCPU, torch::kFloat);
    Prediction p;
    p.snapshot = seen;
    const int64_t classes = logits.size(1);
    // Classes first and dense (a segmenter's output runs channels-last):
    // one log-softmax gives the probabilities and the entropy.
    const auto log_probs = torch::log_softmax(logits[0].contiguous(), 0);
    if (logits.dim() == 2) {
      p.entropy = normalized_entropy(log_probs, classes);
      const auto probs = log_probs.exp();
      const auto k = std::min<int64_t>(std::max(config.top_k, 1), classes);
      const auto [values, indices] = probs.topk(k);
      for (int64_t i = 0; i < k; ++i)
        p.top.emplace_back(static_cast<int>(indices[i].item<int64_t>()), values[i].item<float>());
      p.class_id = p.top.front().first;
      p.confidence = p.top.front().second;
    } else {
      p.entropy = normalized_entropy(log_probs, classes);
      const auto map = log_probs.argmax(0).to(torch::kUInt8).contiguous();
      p.map_height = static_cast<int>(map.size(0));
      p.map_width = static_cast<int>(map.size(1));
      p.class_map.assign(map.data_ptr<uint8_t>(), map.data_ptr<uint8_t>() + map.numel());
      const auto counts = torch::bincount(map.flatten().to(torch::kLong), {}, classes).to(torch::kFloat);
      const auto share = (counts / static_cast<double>(map.numel())).contiguous();
      p.class_share.assign(share.data_ptr<float>(), share.data_ptr<float>() + classes);
      p.class_id = static_cast<int>(std::max_element(p.class_share.begin(), p.class_share.end()) - p.class_share.begin());
      p.confidence = p.class_share[static_cast<size_t>(p.class_id)];
    }
    const auto& in = reader_bundle.info.input;
    p.view = model::model_view(frame.width, frame.height, static_cast<int>(in.width), static_cast<int>(in.height),
                               in.geometry);
    return p;
  }
};

Engine::Engine(const EngineConfig& config) : impl_(std::make_unique<Impl>()) {
  auto& s = *impl_;
  s.config = config;
  if (config.model.empty()) throw EngineError("model: no model file given (set the model property to a .ecotta bundle)");
  if (config.adapt_batch < 1) throw EngineError("adapt-batch-size must be at least 1");
  if (config.sample_interval < 1) throw EngineError("adapt-sample-interval must be at least 1");
  if (config.inference_interval < 1) throw EngineError("inference-interval must be at least 1");
  try {
    if (config.method != kAuto) adapt::check_method_name(config.method);
  } catch (const std::exception& e) {
    throw EngineError(std::string("method: ") + e.what() + ", or auto");
  }
  s.device = parse_device(config.device);
  s.sample_interval = config.sample_interval;
  s.inference_interval = config.inference_interval;

  const int cores = config.threads > 0 ? config.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  s.trainer_bundle = load_for_stream(config.model, s.device);
  s.reader_bundle = load_for_stream(config.model, s.device);
  if (!config.labels_file.empty())
    s.reader_bundle.info.labels = read_labels(config.labels_file, s.reader_bundle.info.labels.size());
  const auto task = s.reader_bundle.info.task;
  const auto options = method_options(config, task);
  const auto& in = s.reader_bundle.info.input;
  s.mean = torch::tensor(in.mean).view({1, 3, 1, 1}).to(s.device);
  s.std = torch::tensor(in.std).view({1, 3, 1, 1}).to(s.device);

  s.method_name = config.method != kAuto ? config.method
                                         : adapt::default_method(task == model::Task::Segment ? adapt::Setting::Segmentation
                                                                                              : adapt::Setting::Frames);
  s.options = options;
  const StepPlan plan = s.cached_plan(config.memory_cap, /*starting=*/true);
  auto trainer_options = options;
  trainer_options.ecotta.first_trained_part = plan.first_trained_part;
  try {
    s.trainer = adapt::make_method(s.method_name, s.trainer_bundle, trainer_options);
    s.reader = adapt::make_method(s.method_name, s.reader_bundle, options);
  } catch (const std::exception& e) {
    // A bundle without meta networks (e.g. wrn-40-2.ecotta) can still run
    // every method but EcoTTA: say so, since ecotta is the default.
    const bool meta_missing = !s.reader_bundle.meta && s.method_name == "ecotta";
    const std::string asked = config.method == kAuto ? "method=auto (" + s.method_name + " for this task)" : "method=" + s.method_name;
    throw EngineError(asked + " with model '" + config.model + "': " + e.what() +
                      (meta_missing ? "; this bundle has none: use a bundle with meta networks (e.g. "
                                      "models/wrn-40-2-ecotta.ecotta) or method=tent, eata, cotta, norm or source"
                                    : ""));
  }
  s.reader_state = s.reader->adapted_state();
  // The frozen weights are read from the process's one copy of this model
  // (both of this engine's copies, and every other engine's); the copies
  // loaded here are freed and the heap gives their pages back.
  s.trainer_share = model::share_frozen_weights(s.trainer_bundle, s.trainer->adapted_state());
  s.reader_share = model::share_frozen_weights(s.reader_bundle, s.reader_state);
  // The reader never resets (its state comes from snapshots), and every
  // camera's trainer resets to the same copy.
  s.reader->forget_initial_state();
  if (!s.trainer_bundle.fingerprint.empty() && !s.trainer->initial_state().empty()) {
    s.initial_share = model::share_equal_tensors(
        s.trainer_bundle.fingerprint + "|initial|" + s.method_name + "|" + s.device.str(), s.trainer->initial_state());
    s.trainer->share_initial_state(s.initial_share.tensors);
  }
  malloc_trim(0);

  if (!config.checkpoint_path.empty() && std::filesystem::exists(config.checkpoint_path)) {
    try {
      s.trainer->load_state(config.checkpoint_path);
    } catch (const std::exception& e) {
      s.warnings.push_back("checkpoint-location: " + std::string(e.what()) + "; starting from the model bundle");
    }
  }
  s.publisher.publish(s.trainer->adapted_state());

  const int64_t capacity = adapt::buffer_capacity_for(plan.batch, config.buffer_capacity);
  s.buffer = std::make_unique<adapt::SampleBuffer>(static_cast<size_t>(capacity),
                                                   static_cast<int64_t>(s.reader_bundle.info.labels.size()));
  WorkerConfig wc;
  wc.threads = std::max(1, cores - 1);
  s.worker = config.adaptation_group.empty() ? std::make_shared<AdaptationWorker>(wc)
                                             : group_worker(config.adaptation_group, wc);
  CameraConfig cc;
  cc.name = config.name.empty() ? config.model : config.name;
  cc.trainer = s.trainer.get();
  cc.buffer = s.buffer.get();
  cc.publisher = &s.publisher;
  cc.cap = config.memory_cap;
  cc.plan = plan;
  cc.planner = [&s](int64_t cap) { return s.cached_plan(cap, /*starting=*/false); };
  cc.checkpoint_path = config.checkpoint_path;
  cc.checkpoint_interval = config.checkpoint_interval;
  cc.enabled = config.adapt && adapt::method_entry(s.method_name).adapts;
  s.adapt_on = cc.enabled;
  s.camera = s.worker->add_camera(cc);
}

Engine::~Engine() {
  try {
    stop();
  } catch (...) {
    // A failed final save was reported by an explicit stop() if the caller
    // wanted to know; a destructor must not throw.
  }
}

bool Engine::segmentation() const { return impl_->reader_bundle.info.task == model::Task::Segment; }
const std::vector<std::string>& Engine::labels() const { return impl_->reader_bundle.info.labels; }
const std::string& Engine::method() const { return impl_->method_name; }
int Engine::model_width() const { return static_cast<int>(impl_->reader_bundle.info.input.width); }
int Engine::model_height() const { return static_cast<int>(impl_->reader_bundle.info.input.height); }
model::Geometry Engine::geometry() const { return impl_->reader_bundle.info.input.geometry; }

std::vector<std::string> Engine::take_warnings() {
  std::lock_guard<std::mutex> lock(impl_->process_mutex);
  impl_->collect_worker_notices();
  return std::exchange(impl_->warnings, {});
}

std::vector<std::string> Engine::take_news() {
  std::lock_guard<std::mutex> lock(impl_->process_mutex);
  impl_->collect_worker_notices();
  return std::exchange(impl_->news, {});
}

Prediction Engine::process(const FrameView& frame) {
  auto& s = *impl_;
  std::lock_guard<std::mutex> lock(s.process_mutex);
  const memory::OwnerScope owner_scope(*s.inference_owner);
  // Inference takes one core; the worker takes the rest (set per thread).
  if (at::get_num_threads() != 1) at::set_num_threads(1);
  const uint64_t index = s.frames++;
  const int interval = std::max(1, s.inference_interval.load());
  if (s.have_last && index % static_cast<uint64_t>(interval) != 0) {
    Prediction p = s.last;
    p.frame = index;
    p.reused = true;
    return p;
  }
  Prediction p;
  try {
    torch::Tensor x;
    {
      const InferenceGate::Pass pass(process_inference_gate());
      x = s.prepare(frame);
      p = s.predict(x, frame);
    }
    if (s.worker && !s.stopped && s.adapt_on &&
        s.inferences % static_cast<uint64_t>(std::max(1, s.sample_interval.load())) == 0) {
      if (s.buffer->offer(x[0], std::max(0, p.class_id))) {
        ++s.offered;
        ++s.unsent_samples;
      }
    }
    if (s.unsent_samples > 0 && s.worker && !s.stopped &&
        s.worker->try_notify_samples(s.camera, s.unsent_samples, std::max(0.0, s.mean_entropy)))
      s.unsent_samples = 0;
  } catch (const EngineError&) {
    throw;
  } catch (const std::exception& e) {
    throw EngineError(std::string("inference failed: ") + e.what());
  }
  ++s.inferences;
  p.frame = index;
  if (s.worker && !s.stopped) {
    s.worker->try_stats(s.camera, s.worker_seen);  // else the figures of an earlier frame
    p.adapt_steps = s.worker_seen.steps;
    p.peak_adapt_bytes = s.worker_seen.peak_step_bytes;
    p.adapting = s.adapt_on;
  }
  s.mean_entropy = s.mean_entropy < 0 ? p.entropy : 0.95 * s.mean_entropy + 0.05 * p.entropy;
  p.mean_entropy = static_cast<float>(s.mean_entropy);
  s.last = p;
  s.have_last = true;
  return p;
}

void Engine::request_checkpoint() {
  if (impl_->worker) impl_->worker->request_checkpoint(impl_->camera);
}

void Engine::set_adapt(bool on) {
  if (!impl_->worker) return;
  impl_->adapt_on = on && adapt::method_entry(impl_->method_name).adapts;
  impl_->worker->set_enabled(impl_->camera, impl_->adapt_on);
}
void Engine::set_sample_interval(int n) { impl_->sample_interval = std::max(1, n); }
void Engine::set_inference_interval(int n) { impl_->inference_interval = std::max(1, n); }
void Engine::set_memory_cap(int64_t bytes) {
  if (impl_->worker) impl_->worker->set_memory_cap(impl_->camera, bytes);
}
void Engine::set_checkpoint_interval(double seconds) {
  if (impl_->worker) impl_->worker->set_checkpoint_interval(impl_->camera, seconds);
}

EngineStats Engine::stats() const {
  auto& s = *impl_;
  EngineStats out;
  if (s.worker) {
    const auto w = s.stopped ? s.left_stats : s.worker->stats(s.camera);
    out.adapt_steps = w.steps;
    out.skipped_steps = w.skipped;
    out.resets = w.resets;
    out.peak_adapt_bytes = w.peak_step_bytes;
    out.last_step_bytes = w.last_step_bytes;
    out.mean_step_ms = w.mean_step_ms;
    out.checkpoints_written = w.checkpoints_written;
    out.kept_bytes = w.kept_bytes;
    out.adapting = !s.stopped && s.adapt_on;
    out.last_error = w.last_error;
    out.memory_cap = w.cap;
    out.plan = w.plan_text;
    out.adapt_paused = w.paused;
    out.group_cameras = w.group_cameras;
    out.group_steps = w.group_steps;
    out.group_peak_adapt_bytes = w.group_peak_step_bytes;
  }
  out.group = s.config.adaptation_group;
  // Both networks read the same shared tensors: count them once.
  out.shared_weight_bytes = std::max(s.reader_share.shared_bytes, s.trainer_share.shared_bytes);
  out.own_weight_bytes = s.reader_share.own_bytes + s.trainer_share.own_bytes;
  out.buffered = s.buffer ? static_cast<int64_t>(s.buffer->size()) : 0;
  if (const auto snap = s.publisher.current()) out.snapshot = snap->version;
  out.tensor_bytes = memory::AllocationCounter::install().current_bytes();
  std::lock_guard<std::mutex> lock(s.process_mutex);
  out.frames = s.frames;
  out.inferences = s.inferences;
  out.samples_offered = s.offered;
  out.mean_entropy = std::max(0.0, s.mean_entropy);
  out.kept_bytes += s.inference_owner->kept_bytes();
  return out;
}

void Engine::stop() {
  auto& s = *impl_;
  if (!s.worker || s.stopped) return;
  // The worker (a group's goes on for its other cameras) lets go of this
  // camera's trainer; the final save is made from here.
  s.left_stats = s.worker->remove_camera(s.camera);
  s.stopped = true;
  if (s.config.checkpoint_path.empty()) return;
  try {
    s.trainer->save_state(s.config.checkpoint_path);  // atomic: temp file + rename
  } catch (const std::exception& e) {
    throw EngineError("checkpoint-location '" + s.config.checkpoint_path +
                      "': checkpoint not saved (the previous one is kept): " + e.what());
  }
  ++s.left_stats.checkpoints_written;
}

}  // namespace ecotta::stream
