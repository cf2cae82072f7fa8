// ecotta-stream-bench: the `ecotta` element measured as a user runs it.
//
//   latency   a live 30 fps source through ecotta with adaptation on and
//             off, alternating (--rounds): streaming-thread latency of the
//             element (p50, p99 of the steady state and with each run's
//             first second),
//             frames that took longer than a frame period, frames the
//             synchronised sink dropped, adaptation steps per minute and
//             frames adapted per frame seen; and a plain LibTorch
//             application's batch-1 forward of the same model, preprocessing
//             included, paced the same way (bare_forward.h), for comparison.
//   soak      a live camera left running (--minutes): ecottacorrupt !
//             ecotta ! ecottaoverlay ! ecottametalog with adaptation and
//             checkpoints on; RSS, tensor bytes, steps and checkpoints each
//             second, frames late or dropped, the RSS slope after warm-up.
//   accuracy  an `ecotta stream` video with its truth file through ecotta,
//             paced at the video's frame rate, adaptation on and off:
//             frame accuracy (classification) or mIoU (segmentation) on
//             clean and on shifted frames, and per condition.
//
// Prints one JSON object. scripts/benchmarks streaming runs it.
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "bare_forward.h"
#include "gst_launch.h"
#include "least_squares.h"
#include "percentile.h"
#include "stream_truth.h"
#include "train/evaluate.h"
#include "ecotta-meta.h"

namespace {

using ecotta::bench::percentile;
using ecotta::bench::read_truth;
using ecotta::bench::TruthFrame;
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode = "latency";
  std::string model;
  std::string video, truth;
  double seconds = 60;
  int width = 640, height = 480, fps = 30;
  std::string element_properties;  // extra properties for ecotta
  std::string runs = "off,on";     // which adaptation settings to run
  int rounds = 3;                  // latency: off/on runs alternate this many times
  double minutes = 30;             // soak: length of the run
  double checkpoint_interval = 60; // soak: seconds between checkpoints
  std::string checkpoint;          // soak: checkpoint file (default: one in /tmp, removed after)
  // soak: a camera's own faults (sensor noise, compression, low resolution),
  // which ecottacorrupt renders within a frame period at 640x480 on 2 cores
  // (2-9 ms); its weather and photometric conditions take 25-80 ms a frame
  // there. Repeats every 5 minutes.
  std::string schedule = "clean:60,shot_noise@5:60,jpeg_compression@5:60,pixelate@5:60,impulse_noise@3:60";
  bool unpaced = false;            // accuracy: as fast as possible (fine for frozen runs only)
};

// Times each buffer from the element's sink pad to its src pad (the same
// streaming thread, so one timestamp in flight is enough).
struct LatencyProbe {
  Clock::time_point entered;
  std::vector<double> ms;
  static GstPadProbeReturn on_sink(GstPad*, GstPadProbeInfo*, gpointer self) {
    static_cast<LatencyProbe*>(self)->entered = Clock::now();
    return GST_PAD_PROBE_OK;
  }
  static GstPadProbeReturn on_src(GstPad*, GstPadProbeInfo*, gpointer self) {
    auto* p = static_cast<LatencyProbe*>(self);
    p->ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - p->entered).count());
    return GST_PAD_PROBE_OK;
  }
};

using ecotta::bench::launch;

// An error message's text, with its debug detail when it has one.
std::string error_text(GstMessage* msg) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  std::string text = std::string(err ? err->message : "error") + (debug ? std::string(" (") + debug + ")" : "");
  g_clear_error(&err);
  g_free(debug);
  return text;
}

// Runs to EOS; throws on an error message.
void run_to_eos(GstElement* pipeline, GstClockTime timeout) {
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg =
      gst_bus_timed_pop_filtered(bus, timeout, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string error;
  if (!msg) error = "timed out";
  else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
    error = error_text(msg);
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  if (!error.empty()) {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    throw std::runtime_error(error);
  }
}

// The next sample, or null at end of stream. Throws with the bus's error
// message if the pipeline failed (appsink alone would wait for ever).
GstSample* next_sample(GstElement* pipeline, GstAppSink* sink) {
  GstBus* bus = gst_element_get_bus(pipeline);
  GstSample* sample = nullptr;
  std::string error;
  while (!(sample = gst_app_sink_try_pull_sample(sink, 100 * GST_MSECOND)) && !gst_app_sink_is_eos(sink)) {
    if (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
      error = error_text(msg);
      gst_message_unref(msg);
      break;
    }
  }
  gst_object_unref(bus);
  if (!error.empty()) {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    throw std::runtime_error(error);
  }
  return sample;
}

guint64 uint64_of(GstElement* e, const char* property) {
  guint64 v = 0;
  g_object_get(e, property, &v, nullptr);
  return v;
}

// A live pipeline with an element named "e" timed by a LatencyProbe and a
// sink named "sink"; set to NULL and released on destruction.
struct ProbedPipeline {
  GstElement* pipeline;
  GstElement* e;
  GstElement* sink;
  GstPad* sink_pad;
  GstPad* src_pad;
  LatencyProbe probe;
  explicit ProbedPipeline(const std::string& description)
      : pipeline(launch(description)),
        e(gst_bin_get_by_name(GST_BIN(pipeline), "e")),
        sink(gst_bin_get_by_name(GST_BIN(pipeline), "sink")),
        sink_pad(gst_element_get_static_pad(e, "sink")),
        src_pad(gst_element_get_static_pad(e, "src")) {
    gst_pad_add_probe(sink_pad, GST_PAD_PROBE_TYPE_BUFFER, &LatencyProbe::on_sink, &probe, nullptr);
    gst_pad_add_probe(src_pad, GST_PAD_PROBE_TYPE_BUFFER, &LatencyProbe::on_src, &probe, nullptr);
  }
  ~ProbedPipeline() {
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(sink_pad);
    gst_object_unref(src_pad);
    gst_object_unref(e);
    gst_object_unref(sink);
    gst_object_unref(pipeline);
  }
  ProbedPipeline(const ProbedPipeline&) = delete;
  ProbedPipeline& operator=(const ProbedPipeline&) = delete;
  // Buffers the synchronised sink rendered and dropped.
  void sink_counts(guint64* rendered, guint64* dropped) const {
    GstStructure* stats = nullptr;
    g_object_get(sink, "stats", &stats, nullptr);
    gst_structure_get_uint64(stats, "rendered", rendered);
    gst_structure_get_uint64(stats, "dropped", dropped);
    gst_structure_free(stats);
  }
};

// One live run of `seconds` through the element.
struct LatencyRun {
  std::vector<double> ms;  // every frame's latency, in order
  double wall_s = 0;
  guint64 rendered = 0, dropped = 0, steps = 0, peak_bytes = 0;
  int batch = 0;
};

LatencyRun latency_run(const Options& o, bool adapt, double seconds) {
  const int frames = static_cast<int>(seconds * o.fps);
  const std::string description =
      "videotestsrc is-live=true pattern=ball num-buffers=" + std::to_string(frames) +
      " ! video/x-raw,format=RGB,width=" + std::to_string(o.width) + ",height=" + std::to_string(o.height) +
      ",framerate=" + std::to_string(o.fps) + "/1 ! ecotta name=e model=" + o.model +
      (adapt ? " adapt=true" : " adapt=false") + " " + o.element_properties +
      " ! fakesink name=sink sync=true qos=true max-lateness=" + std::to_string(GST_SECOND / o.fps);
  ProbedPipeline p(description);
  const auto start = Clock::now();
  run_to_eos(p.pipeline, static_cast<GstClockTime>((seconds * 3 + 120) * GST_SECOND));
  LatencyRun r;
  r.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
  p.sink_counts(&r.rendered, &r.dropped);
  r.ms = std::move(p.probe.ms);
  r.steps = uint64_of(p.e, "adapt-steps");
  r.peak_bytes = uint64_of(p.e, "peak-adapt-bytes");
  g_object_get(p.e, "adapt-batch-size", &r.batch, nullptr);
  return r;
}

// The runs of one setting pooled. Percentiles leave out each run's first
// second (model loading's first allocations, in both settings alike);
// frames over a period and drops count every frame.
json latency_summary(const Options& o, bool adapt, const std::vector<LatencyRun>& runs) {
  std::vector<double> steady, all;
  json per_run_p99 = json::array();
  double wall = 0;
  guint64 frames = 0, rendered = 0, dropped = 0, steps = 0, peak = 0;
  long late = 0;
  int batch = 0;
  const double period_ms = 1000.0 / o.fps;
  for (const auto& r : runs) {
    const size_t skip = std::min(r.ms.size(), static_cast<size_t>(o.fps));
    const std::vector<double> kept(r.ms.begin() + static_cast<long>(skip), r.ms.end());
    steady.insert(steady.end(), kept.begin(), kept.end());
    all.insert(all.end(), r.ms.begin(), r.ms.end());
    per_run_p99.push_back(percentile(kept, 0.99));
    late += std::count_if(r.ms.begin(), r.ms.end(), [&](double ms) { return ms > period_ms; });
    wall += r.wall_s;
    frames += r.ms.size();
    rendered += r.rendered;
    dropped += r.dropped;
    steps += r.steps;
    peak = std::max(peak, r.peak_bytes);
    batch = r.batch;
  }
  json j;
  j["adapt"] = adapt;
  j["runs"] = runs.size();
  j["frames"] = frames;
  j["wall_s"] = wall;
  j["latency_ms_p50"] = percentile(steady, 0.5);
  j["latency_ms_p99"] = percentile(steady, 0.99);
  j["latency_ms_p99_per_run"] = per_run_p99;
  j["latency_ms_p99_with_first_seconds"] = percentile(all, 0.99);
  j["latency_ms_max"] = steady.empty() ? 0 : *std::max_element(steady.begin(), steady.end());
  j["frames_over_period"] = late;
  j["sink_rendered"] = rendered;
  j["sink_dropped"] = dropped;
  j["adapt_steps"] = steps;
  j["adapt_steps_per_minute"] = wall > 0 ? steps / (wall / 60.0) : 0.0;
  // Each step adapts on a batch drawn from the buffer: samples trained on per frame shown.
  j["adapted_samples_per_frame"] = frames ? static_cast<double>(steps * batch) / frames : 0.0;
  j["peak_adapt_bytes"] = peak;
  return j;
}

// Resident set size of this process in bytes.
double rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

using ecotta::bench::slope;

// A live camera left running: corrupt ! ecotta ! overlay ! metalog with
// adaptation and checkpoints on. Every `ecotta-stats` message (each second)
// becomes a sample of RSS, tensor bytes, steps, checkpoints and frames.
json soak_run(const Options& o) {
  const auto frames = static_cast<long>(o.minutes * 60 * o.fps);
  const std::string checkpoint = o.checkpoint.empty() ? "/tmp/ecotta-soak-" + std::to_string(getpid()) + ".ckpt"
                                                      : o.checkpoint;
  std::remove(checkpoint.c_str());
  const std::string description =
      "videotestsrc is-live=true pattern=ball num-buffers=" + std::to_string(frames) +
      " ! video/x-raw,format=BGRx,width=" + std::to_string(o.width) + ",height=" + std::to_string(o.height) +
      ",framerate=" + std::to_string(o.fps) + "/1 ! ecottacorrupt schedule=" + o.schedule +
      " ! ecotta name=e model=" + o.model + " stats-interval=1 checkpoint-location=" + checkpoint +
      " checkpoint-interval=" + std::to_string(o.checkpoint_interval) + " " + o.element_properties +
      " ! ecottaoverlay ! ecottametalog location=/dev/null ! fakesink name=sink sync=true qos=true max-lateness=" +
      std::to_string(GST_SECOND / o.fps);
  ProbedPipeline p(description);
  const auto start = Clock::now();
  gst_element_set_state(p.pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(p.pipeline);
  json samples = json::array();
  std::vector<std::string> warnings;
  std::string error;
  const auto deadline = start + std::chrono::duration<double>(o.minutes * 60 * 2 + 120);
  for (bool done = false; !done && Clock::now() < deadline;) {
    GstMessage* msg = gst_bus_timed_pop(bus, 200 * GST_MSECOND);
    if (!msg) continue;
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS: done = true; break;
      case GST_MESSAGE_ERROR: error = error_text(msg); done = true; break;
      case GST_MESSAGE_WARNING: {
        GError* err = nullptr;
        gst_message_parse_warning(msg, &err, nullptr);
        warnings.push_back(err ? err->message : "warning");
        g_clear_error(&err);
        break;
      }
      case GST_MESSAGE_ELEMENT: {
        const GstStructure* st = gst_message_get_structure(msg);
        if (st && gst_structure_has_name(st, "ecotta-stats")) {
          gint64 steps = 0, checkpoints = 0, tensor = 0, kept = 0;
          guint64 frames_seen = 0;
          gst_structure_get_int64(st, "adapt-steps", &steps);
          gst_structure_get_int64(st, "checkpoints", &checkpoints);
          gst_structure_get_int64(st, "tensor-bytes", &tensor);
          gst_structure_get_int64(st, "kept-bytes", &kept);
          gst_structure_get_uint64(st, "frames", &frames_seen);
          json s;
          s["t_s"] = std::chrono::duration<double>(Clock::now() - start).count();
          s["rss_mib"] = rss_bytes() / (1 << 20);
          s["tensor_mib"] = static_cast<double>(tensor) / (1 << 20);
          s["kept_mib"] = static_cast<double>(kept) / (1 << 20);
          s["steps"] = steps;
          s["checkpoints"] = checkpoints;
          s["frames"] = frames_seen;
          samples.push_back(s);
        }
        break;
      }
      default: break;
    }
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  guint64 rendered = 0, dropped = 0;
  p.sink_counts(&rendered, &dropped);
  std::remove(checkpoint.c_str());
  if (!error.empty()) throw std::runtime_error(error);

  // Warm-up: the first quarter, at most 5 minutes (buffers fill, blocks get
  // kept for reuse, the allocator's arenas settle).
  const double warmup_s = std::min(300.0, o.minutes * 60 / 4);
  std::vector<double> t_min, rss, tensor;
  for (const auto& s : samples)
    if (s["t_s"].get<double>() >= warmup_s) {
      t_min.push_back(s["t_s"].get<double>() / 60);
      rss.push_back(s["rss_mib"].get<double>());
      tensor.push_back(s["tensor_mib"].get<double>());
    }
  const double period_ms = 1000.0 / o.fps;
  json r;
  r["minutes"] = o.minutes;
  r["schedule"] = o.schedule;
  r["checkpoint_interval_s"] = o.checkpoint_interval;
  r["wall_s"] = wall;
  r["frames"] = p.probe.ms.size();
  r["frames_over_period"] = std::count_if(p.probe.ms.begin(), p.probe.ms.end(), [&](double ms) { return ms > period_ms; });
  r["latency_ms_p50"] = percentile(p.probe.ms, 0.5);
  r["latency_ms_p99"] = percentile(p.probe.ms, 0.99);
  r["sink_rendered"] = rendered;
  r["sink_dropped"] = dropped;
  r["warmup_s"] = warmup_s;
  r["rss_slope_mib_per_min"] = slope(t_min, rss);
  r["tensor_slope_mib_per_min"] = slope(t_min, tensor);
  r["warnings"] = warnings;
  r["samples"] = samples;
  return r;
}

// Pixel confusion counts for mIoU.
struct Confusion {
  std::vector<int64_t> m;
  int classes = 0;
  void add(int truth, int predicted, int n_classes) {
    if (classes == 0) {
      classes = n_classes;
      m.assign(static_cast<size_t>(n_classes * n_classes), 0);
    }
    if (truth >= 0 && truth < classes && predicted >= 0 && predicted < classes) ++m[static_cast<size_t>(truth * classes + predicted)];
  }
  // The evaluator's own mIoU (classes absent from truth and predictions skipped).
  double miou() const {
    if (classes == 0) return 0;
    auto counts = m;
    return ecotta::train::mean_iou_from_confusion(torch::from_blob(counts.data(), {classes, classes}, torch::kInt64));
  }
};

struct Score {
  int64_t right = 0, total = 0;
  Confusion confusion;
};

json accuracy_run(const Options& o, const std::vector<TruthFrame>& truth, bool adapt) {
  // Paced at the video's rate (sync=true): adaptation gets the time a live camera gives it.
  const std::string description = "filesrc location=" + o.video +
                                   " ! avidemux ! jpegdec ! videoconvert ! ecotta name=e model=" + o.model +
                                   (adapt ? " adapt=true" : " adapt=false") + " " + o.element_properties +
                                   " ! appsink name=out max-buffers=0 sync=" + (o.unpaced ? "false" : "true");
  GstElement* pipeline = launch(description);
  GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), "e");
  GstAppSink* out = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(pipeline), "out"));
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  std::map<std::string, Score> by_condition;
  Score clean, shifted;
  size_t frame = 0;
  const auto start = Clock::now();
  while (GstSample* sample = next_sample(pipeline, out)) {
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    const auto* m = ecotta_buffer_get_meta(buffer);
    if (m && frame < truth.size()) {
      const auto& t = truth[frame];
      const std::string key = ecotta::bench::condition_key(t);
      auto& bucket = t.condition == "clean" ? clean : shifted;
      if (m->task == ECOTTA_TASK_CLASSIFY) {
        const bool right = m->class_id == t.label;
        bucket.right += right;
        ++bucket.total;
        by_condition[key].right += right;
        ++by_condition[key].total;
      } else {
        // Truth labels at frame resolution, sampled at the centre of each
        // class-map cell inside the model's view.
        const cv::Mat labels = cv::imread(t.labels_png, cv::IMREAD_GRAYSCALE);
        if (labels.empty()) throw std::runtime_error("cannot read '" + t.labels_png + "'");
        for (guint y = 0; y < m->map_height; ++y)
          for (guint x = 0; x < m->map_width; ++x) {
            const int fx = static_cast<int>(m->view_x + (x + 0.5) * m->view_width / m->map_width);
            const int fy = static_cast<int>(m->view_y + (y + 0.5) * m->view_height / m->map_height);
            if (fx < 0 || fy < 0 || fx >= labels.cols || fy >= labels.rows) continue;
            const int truth_class = labels.at<uint8_t>(fy, fx);
            const int predicted = m->class_map[y * m->map_width + x];
            bucket.confusion.add(truth_class, predicted, static_cast<int>(m->n_classes));
            by_condition[key].confusion.add(truth_class, predicted, static_cast<int>(m->n_classes));
          }
        ++bucket.total;
        ++by_condition[key].total;
      }
    }
    ++frame;
    gst_sample_unref(sample);
  }
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();
  const bool classify = clean.confusion.classes == 0 && shifted.confusion.classes == 0;
  const auto figure = [&](const Score& s) {
    return classify ? (s.total ? static_cast<double>(s.right) / static_cast<double>(s.total) : 0) : s.confusion.miou();
  };
  json r;
  r["adapt"] = adapt;
  r["frames"] = frame;
  r["wall_s"] = wall;
  r["metric"] = classify ? "accuracy" : "miou";
  r["clean"] = figure(clean);
  r["shifted"] = figure(shifted);
  r["clean_frames"] = clean.total;
  r["shifted_frames"] = shifted.total;
  json per;
  for (const auto& [k, s] : by_condition) per[k] = figure(s);
  r["per_condition"] = per;
  r["adapt_steps"] = uint64_of(e, "adapt-steps");
  r["resets"] = uint64_of(e, "resets");
  r["peak_adapt_bytes"] = uint64_of(e, "peak-adapt-bytes");
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(out);
  gst_object_unref(e);
  gst_object_unref(pipeline);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  Options o;
  CLI::App app{"Measures the ecotta element: live latency, or accuracy on an `ecotta stream` video"};
  app.add_option("mode", o.mode, "latency, accuracy or soak")->required();
  app.add_option("--minutes", o.minutes, "soak: minutes to run")->capture_default_str()->check(CLI::Range(0.1, 10000.0));
  app.add_option("--checkpoint-interval", o.checkpoint_interval, "soak: seconds between checkpoints")
      ->capture_default_str();
  app.add_option("--checkpoint", o.checkpoint, "soak: checkpoint file (default: a temporary one)");
  app.add_option("--schedule", o.schedule, "soak: ecottacorrupt's schedule")->capture_default_str();
  app.add_option("--model", o.model, "Model bundle")->required();
  app.add_option("--video", o.video, "accuracy: the video (Motion-JPEG AVI from `ecotta stream`)");
  app.add_option("--truth", o.truth, "accuracy: its truth file");
  app.add_option("--seconds", o.seconds, "latency: seconds per setting (split over --rounds)")->capture_default_str();
  app.add_option("--rounds", o.rounds, "latency: alternating off/on runs per setting")
      ->capture_default_str()->check(CLI::Range(1, 100));
  app.add_option("--width", o.width, "latency: frame width")->capture_default_str();
  app.add_option("--height", o.height, "latency: frame height")->capture_default_str();
  app.add_option("--fps", o.fps, "latency: frame rate")->capture_default_str();
  app.add_option("--properties", o.element_properties, "Extra ecotta properties, e.g. \"threads=2\"");
  app.add_flag("--unpaced", o.unpaced, "accuracy: do not pace at the video's rate (adaptation then sees fewer steps per frame)");
  app.add_option("--runs", o.runs, "Adaptation settings to run: off, on or off,on")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    json result;
    result["mode"] = o.mode;
    result["model"] = o.model;
    result["properties"] = o.element_properties;
    if (o.mode == "latency") {
      result["width"] = o.width;
      result["height"] = o.height;
      result["fps"] = o.fps;
      // 20 s of paced frames.
      const auto bare = ecotta::bench::bare_forward(o.model, o.width, o.height, o.fps, 20 * o.fps);
      result["bare_forward_ms"] = bare.paced_p50_ms;
      result["bare_forward_p99_ms"] = bare.paced_p99_ms;
      result["bare_forward_unpaced_ms"] = bare.unpaced_p50_ms;
      // Off and on alternate, `rounds` runs each, so that a change in the
      // shared machine's load falls on both settings alike.
      result["rounds"] = o.rounds;
      std::vector<LatencyRun> off, on;
      for (int i = 0; i < o.rounds; ++i) {
        if (o.runs.find("off") != std::string::npos) off.push_back(latency_run(o, false, o.seconds / o.rounds));
        if (o.runs.find("on") != std::string::npos) on.push_back(latency_run(o, true, o.seconds / o.rounds));
      }
      if (!off.empty()) result["off"] = latency_summary(o, false, off);
      if (!on.empty()) result["on"] = latency_summary(o, true, on);
    } else if (o.mode == "soak") {
      result["soak"] = soak_run(o);
    } else if (o.mode == "accuracy") {
      const auto truth = read_truth(o.truth);
      result["video"] = o.video;
      if (o.runs.find("off") != std::string::npos) result["off"] = accuracy_run(o, truth, false);
      if (o.runs.find("on") != std::string::npos) result["on"] = accuracy_run(o, truth, true);
    } else {
      throw std::invalid_argument("mode '" + o.mode + "': use latency, accuracy or soak");
    }
    std::printf("%s\n", result.dump(2).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecotta-stream-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
