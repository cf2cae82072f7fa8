#pragma once
// The streaming facade: what the GStreamer element (and tools) call. One
// Engine owns a model bundle twice over: a reader that predicts on the
// caller's thread with the latest published snapshot of the adapted state,
// and a trainer that an adaptation worker thread steps beside it on samples
// from a pseudo-label-balanced buffer. The caller never waits for
// adaptation. No LibTorch or GStreamer types appear here.
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "model/input_geometry.h"
#include "stream/frame_input.h"

namespace ecotta::stream {

struct EngineConfig {
  std::string model;                 // bundle path
  std::string labels_file;           // one class name a line, replacing the bundle's; empty: the bundle's
  std::string method = "auto";       // method_names(): a registry method, or "auto" for the task's default
  bool adapt = true;                 // adaptation on at start (set_adapt toggles it)
  int64_t adapt_batch = 16;          // samples per adaptation step
  int sample_interval = 4;           // offer every Nth inferred frame to the sample buffer
  int64_t buffer_capacity = 0;       // samples the buffer holds; 0: 4 x adapt_batch
  int inference_interval = 1;        // infer every Nth frame, reuse the result between
  // Method settings; a negative value keeps the setting's default (adapt/method_defaults.h).
  double learning_rate = -1;
  double reg_weight = -1;            // EcoTTA's lambda
  double entropy_margin = -1;        // H0 = margin * ln C (EcoTTA, EATA)
  int64_t memory_cap = 0;            // bytes for one adaptation step; 0: none
  int threads = 0;                   // cores to use in all; 0: every core
  std::string device = "cpu";        // "cpu" or "cuda"
  std::string checkpoint_path;       // adapted state restored at start and saved here; empty: none
  double checkpoint_interval = 60;   // seconds between periodic saves; 0: only at stop
  int top_k = 5;
  // Engines of one process naming the same group share one adaptation
  // worker (one step at a time, by camera_scheduler.h's policy) and one
  // memory cap, their members' smallest non-zero one. Empty: a worker of
  // its own. Whatever the group, engines of the same model file share one
  // read-only copy of its frozen weights (model/shared_weights.h).
  std::string adaptation_group;
  std::string name;  // the camera, in the group's messages
};

// A bad configuration or model: the message names what is wrong and where.
class EngineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Prediction {
  uint64_t frame = 0;     // index of the frame in the stream
  bool reused = false;    // copied from an earlier frame (inference_interval)
  int class_id = -1;      // segmentation: the class covering most pixels
  float confidence = 0;   // segmentation: that class's pixel share
  std::vector<std::pair<int, float>> top;  // classification: best classes, best first
  float entropy = 0;      // H / ln C of the prediction (segmentation: mean over pixels)
  // Segmentation: the class of every pixel at model resolution, and shares.
  int map_width = 0, map_height = 0;
  std::vector<uint8_t> class_map;
  std::vector<float> class_share;
  model::ViewRect view;   // where the model's input lies in the frame
  uint64_t snapshot = 0;  // version of the adapted state used (0: as loaded)
  int64_t adapt_steps = 0;  // adaptation steps behind that snapshot
  // The adaptation side when the frame was processed (for the metadata).
  bool adapting = false;
  int64_t peak_adapt_bytes = 0;
  float mean_entropy = 0;  // running mean of `entropy` over recent frames
};

struct EngineStats {
  uint64_t frames = 0, inferences = 0, samples_offered = 0;
  int64_t adapt_steps = 0, skipped_steps = 0, resets = 0;
  int64_t peak_adapt_bytes = 0;   // peak of one step, measured for the worker alone
  int64_t last_step_bytes = 0;
  double mean_step_ms = 0;
  double mean_entropy = 0;        // running mean of the predictions' H / ln C
  int64_t buffered = 0;
  uint64_t snapshot = 0;
  int64_t checkpoints_written = 0;
  // CPU tensor bytes in use in the process now (the counting allocator:
  // both copies of the network, buffer, snapshots, steps in flight), and
  // freed blocks the two threads keep for reuse. For soak tests: they must
  // level off.
  int64_t tensor_bytes = 0, kept_bytes = 0;
  int64_t memory_cap = 0;         // the cap steps run under now
  std::string plan;               // the memory plan in words ("" without a cap)
  bool adapting = false;
  bool adapt_paused = false;      // the cap fits no step (changed while playing)
  // The adaptation group (a worker of its own is a group of one): cameras,
  // steps of all of them, and the peak of one step under the group's cap.
  std::string group;
  int64_t group_cameras = 1, group_steps = 0, group_peak_adapt_bytes = 0;
  // Bytes of the frozen network this engine reads from the process's shared
  // copy (its inference and adaptation networks read the same), and the
  // bytes of network tensors of its own (what adaptation changes), both
  // networks together.
  int64_t shared_weight_bytes = 0, own_weight_bytes = 0;
  std::string last_error;         // the adaptation worker's last failure, "" if none
};

// The adaptation methods an engine can run, in registry order, then "auto"
// (the validated default for the model's task: ecotta for classifiers, norm
// for segmenters; adapt::default_method), and each one's summary line.
const std::vector<std::string>& method_names();
std::string method_summary(const std::string& name);

class Engine {
 public:
  // Loads the model and starts the adaptation worker. Throws EngineError.
  explicit Engine(const EngineConfig& config);
  ~Engine();  // stop()
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The bundle's description.
  bool segmentation() const;
  const std::vector<std::string>& labels() const;
  const std::string& method() const;       // the method adapting (may be "norm" under a tight cap)
  int model_width() const;
  int model_height() const;
  model::Geometry geometry() const;
  // Warnings from start (e.g. a checkpoint that could not be restored) and
  // since (adaptation paused under a new memory cap); each returned once.
  std::vector<std::string> take_warnings();
  // News that is no warning (the plan a new memory cap gave), returned once.
  std::vector<std::string> take_news();

  // Streaming thread: map -> preprocess -> predict with the latest snapshot
  // -> offer every Nth frame to the sample buffer. Never waits for a step.
  // Throws EngineError for a frame it cannot read.
  Prediction process(const FrameView& frame);

  void set_adapt(bool on);
  void set_sample_interval(int n);
  void set_inference_interval(int n);
  void set_checkpoint_interval(double seconds);
  // A new memory cap (0: none), respected from the worker's next step; the
  // worker plans it on its own thread (calibration steps, tens of ms to a
  // few seconds, no step meanwhile; frames flow as ever). A cap that fits
  // no step pauses adaptation (see stats().adapt_paused and the warning)
  // until the cap is raised. peak_adapt_bytes restarts with the new plan.
  void set_memory_cap(int64_t bytes);
  // Asks the worker to save the adapted state soon (e.g. at end of stream).
  void request_checkpoint();
  EngineStats stats() const;

  // Stops the worker and saves the adapted state when a checkpoint path is
  // set (atomically). Idempotent. Throws EngineError if the save failed.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecotta::stream
