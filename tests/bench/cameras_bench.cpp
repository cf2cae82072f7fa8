// ecotta-cameras-bench: many cameras, one frozen network.
//
//   compare  for each camera count N (--counts): the first N cameras'
//            videos (--videos DIR: cam_I.avi and cam_I.jsonl from `ecotta
//            stream`) paced at their frame rate with adaptation on,
//              shared    in one process, one pipeline, one adaptation group;
//              separate  as N processes of one camera each, no group;
//              identity  the shared pipeline with `identity` for `ecotta`
//                        (RSS only: what the pipeline costs without us);
//            and once, every camera frozen (adapt=false, unpaced) for the
//            frozen accuracy. Each measurement runs in fresh child
//            processes (this program's `run`), whose RSS and PSS this
//            process samples each second from /proc; per camera: frames
//            late in the element, dropped, accuracy adapted and frozen on
//            clean and shifted frames, adaptation steps and peak bytes.
//            Ends with the RSS each camera beyond the first adds and the
//            issue's three checks.
//   run      one pipeline of N cameras in this process; prints its JSON
//            (what `compare` starts).
//
// Prints one JSON object. scripts/benchmarks cameras runs it.
#include <fcntl.h>
#include <gst/gst.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ecotta-meta.h"
#include "gst_launch.h"
#include "least_squares.h"
#include "percentile.h"
#include "stream_truth.h"

extern char** environ;

namespace {

using ecotta::bench::percentile;
using ecotta::bench::TruthFrame;
using json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

constexpr double kMiB = 1024.0 * 1024.0;

struct Options {
  std::string mode;
  std::string model;
  std::string videos;           // folder of cam_I.avi + cam_I.jsonl
  std::string properties;       // extra ecotta properties
  std::string model_info;       // compare: `ecotta inspect --json` of the model, for its input size
  int threads = 0;              // ecotta's threads; 0: the CPUs this process may run on
  std::string group = "cams";   // compare: the shared run's adaptation group
  // compare
  std::string counts = "1,2,4,8,16";
  std::string kinds = "shared,separate,identity";
  double baseline_seconds = 20;  // identity runs: RSS levels off within seconds
  int realtime_count = 8;        // the check "N cameras keep real time" is made at this N
  // run
  int first = 0, cameras = 1;
  std::string element = "ecotta";
  bool frozen = false, unpaced = false;
  std::string run_group;
  double seconds = 0;  // stop after this many seconds (0: at end of stream)
};

std::string video_path(const std::string& dir, int i) { return dir + "/cam_" + std::to_string(i) + ".avi"; }
std::string truth_path(const std::string& dir, int i) { return dir + "/cam_" + std::to_string(i) + ".jsonl"; }

int allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
}

// The video's frame rate, from the truth file's timestamps.
double truth_fps(const std::vector<TruthFrame>& truth) {
  if (truth.size() < 2 || truth[1].pts <= truth[0].pts) throw std::runtime_error("truth file: fewer than two frames");
  return 1.0 / (truth[1].pts - truth[0].pts);
}

// A "Key:   123 kB" field of a /proc file in bytes; -1 if absent or unreadable.
double proc_kb_field(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, key.size() + 1, key + ":") == 0) return std::atof(line.c_str() + key.size() + 1) * 1024.0;
  return -1;
}

double mib(double bytes) { return bytes / kMiB; }

// ---------------------------------------------------------------- run mode

struct Score {
  int64_t right = 0, total = 0;
  double accuracy() const { return total ? static_cast<double>(right) / static_cast<double>(total) : 0; }
};

// One camera's branch: probes on the element's pads (its streaming thread,
// the queue's) time each frame and score its EcottaMeta against the truth.
struct Camera {
  int index = 0;
  std::vector<TruthFrame> truth;
  double fps = 15;
  GstElement* e = nullptr;
  GstElement* sink = nullptr;
  // Written by the streaming thread only; read after the pipeline stops.
  Clock::time_point entered;
  bool entered_in_preroll = false;
  std::vector<double> ms;
  uint64_t in = 0, unscored = 0, late_in_preroll = 0;
  Score clean, shifted;
  std::map<std::string, Score> per_condition;
  json last_stats;  // main thread: the last ecotta-stats message

  static GstPadProbeReturn on_sink(GstPad*, GstPadProbeInfo*, gpointer self) {
    auto* c = static_cast<Camera*>(self);
    c->entered = Clock::now();
    ++c->in;
    // Frames the element takes before it plays (preroll) are done before the
    // clock runs: no sink waits for them in real time.
    GST_OBJECT_LOCK(c->e);
    c->entered_in_preroll = GST_STATE(c->e) != GST_STATE_PLAYING;
    GST_OBJECT_UNLOCK(c->e);
    return GST_PAD_PROBE_OK;
  }
  static GstPadProbeReturn on_src(GstPad*, GstPadProbeInfo* info, gpointer self) {
    auto* c = static_cast<Camera*>(self);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - c->entered).count();
    c->ms.push_back(ms);
    if (c->entered_in_preroll && ms > 1000.0 / c->fps) ++c->late_in_preroll;
    c->score(GST_PAD_PROBE_INFO_BUFFER(info));
    return GST_PAD_PROBE_OK;
  }
  // By timestamp, not arrival order: frames dropped upstream (the decoder's
  // QoS) must not shift the truth.
  void score(GstBuffer* buffer) {
    const EcottaMeta* m = buffer ? ecotta_buffer_get_meta(buffer) : nullptr;
    if (!m) return;  // identity: nothing to score
    if (m->task != ECOTTA_TASK_CLASSIFY || !GST_BUFFER_PTS_IS_VALID(buffer)) {
      ++unscored;
      return;
    }
    const auto k = std::llround(static_cast<double>(GST_BUFFER_PTS(buffer)) * fps / GST_SECOND);
    if (k < 0 || static_cast<size_t>(k) >= truth.size()) {
      ++unscored;
      return;
    }
    const TruthFrame& t = truth[static_cast<size_t>(k)];
    const bool right = m->class_id == t.label;
    Score& bucket = t.condition == "clean" ? clean : shifted;
    bucket.right += right;
    ++bucket.total;
    Score& c = per_condition[ecotta::bench::condition_key(t)];
    c.right += right;
    ++c.total;
  }
};

using ecotta::bench::launch;

std::string message_text(GstMessage* msg) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) gst_message_parse_error(msg, &err, &debug);
  else gst_message_parse_warning(msg, &err, &debug);
  std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(msg))) + ": " + (err ? err->message : "?") +
                     (debug ? std::string(" (") + debug + ")" : "");
  g_clear_error(&err);
  g_free(debug);
  return text;
}

// The fields of an ecotta-stats message that this benchmark reports.
json stats_json(const GstStructure* st) {
  json j;
  for (const char* f : {"adapt-steps", "peak-adapt-bytes", "group-cameras", "group-steps", "group-peak-adapt-bytes",
                        "shared-weight-bytes", "own-weight-bytes", "tensor-bytes", "kept-bytes", "skipped-steps", "resets"}) {
    gint64 v = 0;
    if (gst_structure_get_int64(st, f, &v)) j[f] = v;
  }
  guint64 frames = 0;
  if (gst_structure_get_uint64(st, "frames", &frames)) j["frames"] = frames;
  if (const char* g = gst_structure_get_string(st, "adaptation-group")) j["adaptation-group"] = g;
  return j;
}

json camera_json(const Camera& c, const json& element_figures, guint64 rendered, guint64 dropped, bool stopped_early) {
  const double period_ms = 1000.0 / c.fps;
  const auto late = std::count_if(c.ms.begin(), c.ms.end(), [&](double ms) { return ms > period_ms; });
  json j;
  j["camera"] = c.index;
  j["frames_in_video"] = c.truth.size();
  j["frames_in"] = c.in;       // entered the element
  j["frames_out"] = c.ms.size();  // left it
  // Stopped before the end (--seconds), the frames not yet due are no drops.
  j["dropped_before_element"] =
      stopped_early ? json(nullptr) : json(static_cast<int64_t>(c.truth.size()) - static_cast<int64_t>(c.in));
  j["late"] = late;  // the element's processing took over one frame period
  j["late_in_preroll"] = c.late_in_preroll;
  j["late_while_playing"] = static_cast<int64_t>(late) - static_cast<int64_t>(c.late_in_preroll);
  j["latency_ms_p50"] = percentile(c.ms, 0.5);
  j["latency_ms_p99"] = percentile(c.ms, 0.99);
  j["latency_ms_max"] = c.ms.empty() ? 0 : *std::max_element(c.ms.begin(), c.ms.end());
  j["sink_rendered"] = rendered;
  j["sink_dropped"] = dropped;  // too late at the synchronised sink
  if (c.clean.total + c.shifted.total > 0) {
    json a;
    a["clean"] = c.clean.accuracy();
    a["shifted"] = c.shifted.accuracy();
    a["clean_frames"] = c.clean.total;
    a["shifted_frames"] = c.shifted.total;
    a["unscored_frames"] = c.unscored;
    json per;
    for (const auto& [k, s] : c.per_condition) per[k] = s.accuracy();
    a["per_condition"] = per;
    j["accuracy"] = a;
  }
  for (const auto& [k, v] : element_figures.items()) j[k] = v;
  if (!c.last_stats.is_null()) j["last_stats"] = c.last_stats;
  return j;
}

json run_pipeline(const Options& o) {
  const int threads = o.threads > 0 ? o.threads : allowed_cpus();
  const bool ecotta = o.element == "ecotta";
  if (!ecotta && o.element != "identity") throw std::invalid_argument("--element: ecotta or identity");
  std::vector<std::unique_ptr<Camera>> cams;
  std::string description;
  for (int k = 0; k < o.cameras; ++k) {
    auto c = std::make_unique<Camera>();
    c->index = o.first + k;
    c->truth = ecotta::bench::read_truth(truth_path(o.videos, c->index));
    c->fps = truth_fps(c->truth);
    const std::string id = std::to_string(c->index);
    std::string element = "identity name=e_" + id;
    if (ecotta)
      element = "ecotta name=e_" + id + " model=" + o.model + (o.frozen ? " adapt=false" : " adapt=true") +
                " stats-interval=1 threads=" + std::to_string(threads) +
                (o.run_group.empty() ? "" : " adaptation-group=" + o.run_group) + " " + o.properties;
    // Paced: a sink that drops what comes later than a frame period, as a
    // display would; the decoder's QoS may then drop frames before us too.
    const std::string sink =
        o.unpaced ? "fakesink name=out_" + id + " sync=false"
                  : "fakesink name=out_" + id + " sync=true qos=true max-lateness=" +
                        std::to_string(static_cast<int64_t>(GST_SECOND / c->fps));
    description += "filesrc location=" + video_path(o.videos, c->index) + " ! avidemux ! jpegdec ! queue ! " +
                   element + " ! " + sink + "  ";
    cams.push_back(std::move(c));
  }
  GstElement* pipeline = launch(description);
  for (auto& c : cams) {
    const std::string id = std::to_string(c->index);
    c->e = gst_bin_get_by_name(GST_BIN(pipeline), ("e_" + id).c_str());
    c->sink = gst_bin_get_by_name(GST_BIN(pipeline), ("out_" + id).c_str());
    GstPad* in = gst_element_get_static_pad(c->e, "sink");
    GstPad* out = gst_element_get_static_pad(c->e, "src");
    gst_pad_add_probe(in, GST_PAD_PROBE_TYPE_BUFFER, &Camera::on_sink, c.get(), nullptr);
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, &Camera::on_src, c.get(), nullptr);
    gst_object_unref(in);
    gst_object_unref(out);
  }

  const double video_s = static_cast<double>(cams[0]->truth.size()) / cams[0]->fps;
  const double timeout_s = o.unpaced ? 600 + 2 * video_s * o.cameras : 180 + 3 * video_s;
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  std::string error;
  json warnings = json::array();
  double stopped_after = 0;
  int width = 0, height = 0;
  for (bool done = false; !done;) {
    if (o.seconds > 0 && elapsed() > o.seconds) {
      stopped_after = elapsed();
      break;
    }
    if (elapsed() > timeout_s) {
      error = "timed out after " + std::to_string(timeout_s) + " s";
      break;
    }
    GstMessage* msg = gst_bus_timed_pop(bus, 200 * GST_MSECOND);
    if (!msg) continue;
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS: done = true; break;
      case GST_MESSAGE_ERROR: error = message_text(msg); done = true; break;
      case GST_MESSAGE_WARNING: warnings.push_back(message_text(msg)); break;
      case GST_MESSAGE_ELEMENT: {
        const GstStructure* st = gst_message_get_structure(msg);
        if (st && gst_structure_has_name(st, "ecotta-stats"))
          for (auto& c : cams)
            if (GST_MESSAGE_SRC(msg) == GST_OBJECT(c->e)) c->last_stats = stats_json(st);
        break;
      }
      default: break;
    }
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  const double wall = elapsed();
  if (GstPad* pad = gst_element_get_static_pad(cams[0]->e, "sink")) {
    if (GstCaps* caps = gst_pad_get_current_caps(pad)) {
      const GstStructure* s = gst_caps_get_structure(caps, 0);
      gst_structure_get_int(s, "width", &width);
      gst_structure_get_int(s, "height", &height);
      gst_caps_unref(caps);
    }
    gst_object_unref(pad);
  }

  // Figures the elements and sinks hold, read while they still run; the
  // probes' after the streaming threads have stopped.
  std::vector<json> figures;
  std::vector<std::pair<guint64, guint64>> sink_counts;
  for (auto& c : cams) {
    json f;
    if (ecotta) {
      guint64 steps = 0, peak = 0, frames = 0;
      int batch = 0;
      g_object_get(c->e, "adapt-steps", &steps, "peak-adapt-bytes", &peak, "frames", &frames, "adapt-batch-size",
                   &batch, nullptr);
      f["adapt_steps"] = steps;
      f["peak_adapt_bytes"] = peak;
      f["element_frames"] = frames;
      f["adapt_batch_size"] = batch;
    }
    guint64 rendered = 0, dropped = 0;
    GstStructure* stats = nullptr;
    g_object_get(c->sink, "stats", &stats, nullptr);
    gst_structure_get_uint64(stats, "rendered", &rendered);
    gst_structure_get_uint64(stats, "dropped", &dropped);
    gst_structure_free(stats);
    figures.push_back(f);
    sink_counts.emplace_back(rendered, dropped);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);

  json r;
  r["element"] = o.element;
  r["adapt"] = ecotta && !o.frozen;
  r["adaptation_group"] = o.run_group;
  r["paced"] = !o.unpaced;
  r["threads"] = ecotta ? threads : 0;
  r["fps"] = cams[0]->fps;
  r["width"] = width;
  r["height"] = height;
  r["wall_s"] = wall;
  if (stopped_after > 0) r["stopped_after_s"] = stopped_after;
  // The kernel's high-water mark of this process's RSS: peaks between the
  // parent's once-a-second samples included.
  r["vmhwm_mib"] = mib(proc_kb_field("/proc/self/status", "VmHWM"));
  r["warnings"] = warnings;
  if (!error.empty()) r["error"] = error;
  json per = json::array();
  for (size_t k = 0; k < cams.size(); ++k)
    per.push_back(camera_json(*cams[k], figures[k], sink_counts[k].first, sink_counts[k].second, stopped_after > 0));
  r["cameras"] = per;
  for (auto& c : cams) {
    gst_object_unref(c->e);
    gst_object_unref(c->sink);
  }
  gst_object_unref(pipeline);
  return r;
}

// ------------------------------------------------------------ compare mode

std::string self_exe() {
  std::error_code ec;
  const auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot resolve /proc/self/exe: " + ec.message());
  return p.string();
}

// Runs this program with `args`, its stdout into `out_path`.
pid_t spawn(const std::vector<std::string>& args, const std::string& out_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn: " + std::string(strerror(rc)));
  return pid;
}

// Child processes started together and sampled each second: the sums of
// their RSS (VmRSS) and PSS (smaps_rollup: shared pages split between the
// processes mapping them, so libraries count once over N processes).
json run_children(const std::vector<std::vector<std::string>>& argvs, double timeout_s) {
  struct Child {
    pid_t pid = 0;
    std::string out;
    bool alive = true;
    int status = 0;
  };
  std::vector<Child> children;
  for (const auto& args : argvs) {
    char name[] = "/tmp/ecotta-cameras-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) throw std::runtime_error("mkstemp failed");
    close(fd);
    Child c;
    c.out = name;
    c.pid = spawn(args, c.out);
    children.push_back(c);
  }
  const auto start = Clock::now();
  const auto elapsed = [&] { return std::chrono::duration<double>(Clock::now() - start).count(); };
  json samples = json::array();  // [t_s, rss_mib, pss_mib or null, every child alive]
  bool timed_out = false, pss_available = true;
  double next_sample = 0;
  for (size_t alive = children.size(); alive > 0;) {
    for (auto& c : children)
      if (c.alive && waitpid(c.pid, &c.status, WNOHANG) == c.pid) {
        c.alive = false;
        --alive;
      }
    if (alive == 0) break;
    if (elapsed() >= next_sample) {
      double rss = 0, pss = 0;
      bool complete = alive == children.size();
      for (const auto& c : children) {
        if (!c.alive) continue;
        const std::string proc = "/proc/" + std::to_string(c.pid);
        const double r = proc_kb_field(proc + "/status", "VmRSS");
        const double p = proc_kb_field(proc + "/smaps_rollup", "Pss");
        if (r < 0) complete = false;  // exiting: no memory map any more
        if (p < 0 && r >= 0) pss_available = false;
        rss += std::max(0.0, r);
        pss += std::max(0.0, p);
      }
      samples.push_back({std::round(elapsed() * 10) / 10, mib(rss), pss_available ? json(mib(pss)) : json(nullptr),
                         complete});
      next_sample += 1;
    }
    if (!timed_out && elapsed() > timeout_s) {
      timed_out = true;
      for (const auto& c : children)
        if (c.alive) kill(c.pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }

  // Peak over every sample; the steady figure is the median of the second
  // half of the samples taken while every child was alive.
  std::vector<double> rss_all, rss_steady, pss_all, pss_steady;
  std::vector<const json*> complete;
  for (const auto& s : samples) {
    rss_all.push_back(s[1].get<double>());
    if (!s[2].is_null()) pss_all.push_back(s[2].get<double>());
    if (s[3].get<bool>()) complete.push_back(&s);
  }
  for (size_t k = complete.size() / 2; k < complete.size(); ++k) {
    rss_steady.push_back((*complete[k])[1].get<double>());
    if (!(*complete[k])[2].is_null()) pss_steady.push_back((*complete[k])[2].get<double>());
  }
  json r;
  r["processes"] = children.size();
  r["wall_s"] = elapsed();
  r["rss_mib_peak"] = rss_all.empty() ? json(nullptr) : json(*std::max_element(rss_all.begin(), rss_all.end()));
  r["rss_mib_median_second_half"] = rss_steady.empty() ? json(nullptr) : json(percentile(rss_steady, 0.5));
  if (pss_available) {
    r["pss_mib_peak"] = pss_all.empty() ? json(nullptr) : json(*std::max_element(pss_all.begin(), pss_all.end()));
    r["pss_mib_median_second_half"] = pss_steady.empty() ? json(nullptr) : json(percentile(pss_steady, 0.5));
  } else {
    r["pss_note"] = "/proc/PID/smaps_rollup not readable here: PSS not measured";
  }
  double hwm = 0;
  json errors = json::array(), cameras = json::array(), runs = json::array();
  for (const auto& c : children) {
    std::ifstream in(c.out);
    std::stringstream text;
    text << in.rdbuf();
    std::remove(c.out.c_str());
    if (!WIFEXITED(c.status) || WEXITSTATUS(c.status) != 0)
      errors.push_back("child " + std::to_string(c.pid) + (timed_out ? " killed after the timeout" : " failed") +
                       " (wait status " + std::to_string(c.status) + ")");
    // A child that failed may still have printed its figures (with "error").
    const json child_or_null = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
    if (child_or_null.is_discarded() || !child_or_null.is_object()) continue;
    json child = child_or_null;
    hwm += child.value("vmhwm_mib", 0.0);
    if (child.contains("error")) errors.push_back(child["error"]);
    for (auto& cam : child["cameras"]) cameras.push_back(cam);
    child.erase("cameras");
    runs.push_back(child);
  }
  r["sum_of_vmhwm_mib"] = hwm;  // each process's own peak, summed (peaks need not coincide)
  r["errors"] = errors;
  r["run"] = runs.size() == 1 ? runs[0] : runs;
  r["cameras"] = cameras;
  r["samples"] = samples;
  return r;
}

std::vector<int> parse_counts(const std::string& text) {
  std::vector<int> counts;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) counts.push_back(std::stoi(item));
  if (counts.empty()) throw std::invalid_argument("--counts: no camera count");
  std::sort(counts.begin(), counts.end());
  if (counts.front() < 1) throw std::invalid_argument("--counts: counts start at 1");
  return counts;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

const json* find_camera(const json& cameras, int index) {
  for (const auto& c : cameras)
    if (c["camera"].get<int>() == index) return &c;
  return nullptr;
}

// One camera's row for the table: what the run measured of it.
json camera_row(const json* c) {
  if (!c) return json(nullptr);
  json r;
  for (const char* k : {"frames_in_video", "frames_in", "late", "late_while_playing", "sink_dropped",
                        "dropped_before_element", "adapt_steps", "peak_adapt_bytes"})
    if (c->contains(k)) r[k] = (*c)[k];
  if (c->contains("accuracy")) {
    r["clean"] = (*c)["accuracy"]["clean"];
    r["shifted"] = (*c)["accuracy"]["shifted"];
  }
  return r;
}

// RSS each camera beyond the first adds, (f(N) - f(first)) / (N - first),
// per count, and the least-squares slope over all counts. `f` may be null
// for a count (not measured).
json added_per_camera(const std::vector<int>& counts, const std::vector<json>& f) {
  json per = json::object();
  std::vector<double> x, y;
  for (size_t k = 0; k < counts.size(); ++k) {
    if (f[k].is_null()) continue;
    x.push_back(counts[k]);
    y.push_back(f[k].get<double>());
  }
  for (size_t k = 1; k < x.size(); ++k) per[std::to_string(static_cast<int>(x[k]))] = (y[k] - y[0]) / (x[k] - x[0]);
  json r;
  r["from_cameras"] = x.empty() ? json(nullptr) : json(static_cast<int>(x[0]));
  r["per_count"] = per;
  r["slope"] = x.size() >= 2 ? json(ecotta::bench::slope(x, y)) : json(nullptr);
  return r;
}

json compare(const Options& o, const std::string& command) {
  const auto counts = parse_counts(o.counts);
  const int n_max = counts.back();
  const auto has = [&](const char* kind) { return o.kinds.find(kind) != std::string::npos; };
  const int threads = o.threads > 0 ? o.threads : allowed_cpus();
  std::vector<std::vector<TruthFrame>> truths;
  for (int i = 0; i < n_max; ++i) {
    if (!fs::exists(video_path(o.videos, i))) throw std::runtime_error("missing " + video_path(o.videos, i));
    truths.push_back(ecotta::bench::read_truth(truth_path(o.videos, i)));
  }
  const double video_s = static_cast<double>(truths[0].size()) / truth_fps(truths[0]);
  const std::string exe = self_exe();
  const auto child = [&](int first, int n, const std::string& element, bool frozen, const std::string& group,
                         bool unpaced, double seconds) {
    std::vector<std::string> a = {exe, "run", "--model", o.model, "--videos", o.videos, "--first", std::to_string(first),
                                  "--cameras", std::to_string(n), "--element", element, "--threads",
                                  std::to_string(threads), "--seconds", std::to_string(seconds)};
    if (!o.properties.empty()) a.insert(a.end(), {"--properties", o.properties});
    if (!group.empty()) a.insert(a.end(), {"--run-group", group});
    if (frozen) a.push_back("--frozen");
    if (unpaced) a.push_back("--unpaced");
    return a;
  };
  const double paced_timeout = 240 + 3 * video_s;

  json out;
  out["benchmark"] = "cameras";
  out["command"] = command;
  out["date"] = utc_now();
  out["nproc"] = allowed_cpus();  // what `nproc` prints: CPUs this process may run on
  out["cpus_online"] = sysconf(_SC_NPROCESSORS_ONLN);
  out["model"] = o.model;
  out["videos"] = o.videos;
  out["ecotta_threads"] = threads;
  out["properties"] = o.properties;
  out["adaptation_group"] = o.group;
  out["counts"] = counts;
  out["video_seconds"] = video_s;
  out["fps"] = truth_fps(truths[0]);
  out["baseline_seconds"] = o.baseline_seconds;
  out["memory_note"] =
      "RSS and PSS sampled from /proc once a second (peak: highest sample; steady: median of the second half of "
      "the samples taken while every process of the run was alive). PSS splits each shared page between every "
      "process on the machine that maps it, so other processes using LibTorch lower it: compare PSS on a quiet "
      "machine only. This program links no LibTorch, so the identity runs hold none of it.";

  // The sample buffer each camera holds: 4 x adapt-batch-size samples
  // (core/stream/engine.cpp) of 3 x H x W float32 model inputs, H x W from
  // `ecotta inspect --json` (this program links no LibTorch, so that the
  // identity pipeline's processes hold none of it). Computed, not measured.
  double sample_bytes = 0;
  if (!o.model_info.empty()) {
    std::ifstream in(o.model_info);
    if (!in) throw std::runtime_error("cannot open --model-info '" + o.model_info + "'");
    const auto info = json::parse(in);
    sample_bytes = 3.0 * info.at("input").at("height").get<double>() * info.at("input").at("width").get<double>() * 4;
  }

  json cams = json::array();
  for (int i = 0; i < n_max; ++i) {
    json c;
    c["camera"] = i;
    c["video"] = video_path(o.videos, i);
    c["frames"] = truths[static_cast<size_t>(i)].size();
    // The schedule as the truth file has it: condition, seconds.
    json conditions = json::array();
    for (const auto& t : truths[static_cast<size_t>(i)]) {
      const std::string key = ecotta::bench::condition_key(t);
      if (conditions.empty() || conditions.back()[0] != key) conditions.push_back({key, 0.0});
      conditions.back()[1] = conditions.back()[1].get<double>() + 1.0 / truth_fps(truths[0]);
    }
    for (auto& c : conditions) c[1] = std::round(c[1].get<double>() * 100) / 100;
    c["conditions"] = conditions;
    std::ifstream cmd(o.videos + "/cam_" + std::to_string(i) + ".cmd");
    std::string line;
    if (std::getline(cmd, line)) c["rendered_by"] = line;
    cams.push_back(c);
  }
  out["cameras"] = cams;

  // Frozen accuracy: deterministic, so once, every camera in one unpaced pipeline.
  std::fprintf(stderr, "cameras: frozen, %d cameras unpaced\n", n_max);
  const json frozen = run_children({child(0, n_max, "ecotta", true, "", true, 0)}, 600 + 2 * video_s * n_max);
  out["frozen"] = {{"errors", frozen["errors"]}, {"wall_s", frozen["wall_s"]}};
  json frozen_rows = json::array();
  for (int i = 0; i < n_max; ++i) {
    const json* c = find_camera(frozen["cameras"], i);
    json row = camera_row(c);
    frozen_rows.push_back({{"camera", i},
                           {"clean", row.is_null() ? json(nullptr) : row["clean"]},
                           {"shifted", row.is_null() ? json(nullptr) : row["shifted"]}});
  }
  out["frozen"]["cameras"] = frozen_rows;

  json runs = json::array();
  std::vector<json> shared_rss, separate_rss, identity_rss, shared_pss, separate_pss, element_rss;
  std::vector<json> shared_rss_peak, separate_rss_peak, identity_rss_peak, element_rss_peak;
  int batch = 0;
  for (int n : counts) {
    json r;
    r["cameras"] = n;
    if (has("identity")) {
      std::fprintf(stderr, "cameras: %d, identity baseline (%g s)\n", n, o.baseline_seconds);
      r["identity"] = run_children({child(0, n, "identity", false, "", false, o.baseline_seconds)}, paced_timeout);
    }
    if (has("shared")) {
      std::fprintf(stderr, "cameras: %d, one process, adaptation-group=%s\n", n, o.group.c_str());
      r["shared"] = run_children({child(0, n, "ecotta", false, o.group, false, 0)}, paced_timeout);
      // The group's figures, from the cameras' last ecotta-stats messages.
      int64_t group_peak = 0, tensor = 0;
      json weights = json::array();
      for (const auto& c : r["shared"]["cameras"]) {
        if (!c.contains("last_stats")) continue;
        const auto& s = c["last_stats"];
        group_peak = std::max<int64_t>(group_peak, s.value("group-peak-adapt-bytes", int64_t{0}));
        tensor = std::max<int64_t>(tensor, s.value("tensor-bytes", int64_t{0}));
        weights.push_back({{"camera", c["camera"]},
                           {"shared_weight_bytes", s.value("shared-weight-bytes", int64_t{-1})},
                           {"own_weight_bytes", s.value("own-weight-bytes", int64_t{-1})}});
        batch = std::max(batch, c.value("adapt_batch_size", 0));
      }
      r["shared"]["group_peak_adapt_bytes"] = group_peak;
      r["shared"]["tensor_bytes_last"] = tensor;  // the process's counting allocator at the last message
      r["shared"]["weights"] = weights;
    }
    if (has("separate")) {
      std::fprintf(stderr, "cameras: %d, %d separate processes\n", n, n);
      std::vector<std::vector<std::string>> argvs;
      for (int i = 0; i < n; ++i) argvs.push_back(child(i, 1, "ecotta", false, "", false, 0));
      r["separate"] = run_children(argvs, paced_timeout);
    }
    // One row per camera: the shared and separate runs and the frozen one.
    json table = json::array();
    for (int i = 0; i < n; ++i) {
      json row;
      row["camera"] = i;
      row["shared"] = r.contains("shared") ? camera_row(find_camera(r["shared"]["cameras"], i)) : json(nullptr);
      row["separate"] = r.contains("separate") ? camera_row(find_camera(r["separate"]["cameras"], i)) : json(nullptr);
      row["frozen"] = frozen_rows[static_cast<size_t>(i)];
      table.push_back(row);
    }
    r["per_camera"] = table;
    const auto fig = [&](const char* kind, const char* key) {
      return r.contains(kind) ? r[kind].value(key, json(nullptr)) : json(nullptr);
    };
    shared_rss.push_back(fig("shared", "rss_mib_median_second_half"));
    separate_rss.push_back(fig("separate", "rss_mib_median_second_half"));
    identity_rss.push_back(fig("identity", "rss_mib_median_second_half"));
    shared_pss.push_back(fig("shared", "pss_mib_median_second_half"));
    separate_pss.push_back(fig("separate", "pss_mib_median_second_half"));
    shared_rss_peak.push_back(fig("shared", "rss_mib_peak"));
    separate_rss_peak.push_back(fig("separate", "rss_mib_peak"));
    identity_rss_peak.push_back(fig("identity", "rss_mib_peak"));
    const auto minus = [](const json& a, const json& b) {
      return a.is_null() || b.is_null() ? json(nullptr) : json(a.get<double>() - b.get<double>());
    };
    element_rss.push_back(minus(shared_rss.back(), identity_rss.back()));
    element_rss_peak.push_back(minus(shared_rss_peak.back(), identity_rss_peak.back()));
    r["element_rss_mib"] = element_rss.back();  // shared minus identity: what the elements add
    runs.push_back(r);
  }
  out["runs"] = runs;

  // RSS (and PSS) each camera beyond the first adds. "steady": the medians
  // of the second halves; "peak": the highest samples.
  json added;
  added["steady"] = {{"shared_rss", added_per_camera(counts, shared_rss)},
                     {"shared_pss", added_per_camera(counts, shared_pss)},
                     {"separate_rss", added_per_camera(counts, separate_rss)},
                     {"separate_pss", added_per_camera(counts, separate_pss)},
                     {"identity_rss", added_per_camera(counts, identity_rss)},
                     {"element_rss", added_per_camera(counts, element_rss)}};
  added["peak"] = {{"shared_rss", added_per_camera(counts, shared_rss_peak)},
                   {"separate_rss", added_per_camera(counts, separate_rss_peak)},
                   {"identity_rss", added_per_camera(counts, identity_rss_peak)},
                   {"element_rss", added_per_camera(counts, element_rss_peak)}};
  out["rss_added_per_camera_mib"] = added;

  // The checks, from the figures above; null where not measured.
  json checks;
  {
    const bool known = batch > 0 && sample_bytes > 0;
    const double buffer_mib = known ? mib(4.0 * batch * sample_bytes) : 0;
    json m;
    m["sample_buffer_mib"] = known ? json(buffer_mib) : json(nullptr);
    m["sample_buffer_note"] = known ? "computed, not measured: 4 x adapt-batch-size samples of 3 x H x W float32 "
                                      "(H, W: the model's input)"
                                    : "unknown (no --model-info, or no shared run)";
    m["limit_mib"] = known ? json(3 + buffer_mib) : json(nullptr);
    m["figure"] = "element_rss steady, per added camera: (shared - identity)(N) - (shared - identity)(first), / (N - first)";
    const json& per = added["steady"]["element_rss"]["per_count"];
    json worst = nullptr;
    for (const auto& [k, v] : per.items())
      if (worst.is_null() || v.get<double>() > worst.get<double>()) worst = v;
    m["worst_mib"] = worst;
    m["separate_rss_per_camera_mib"] = added["steady"]["separate_rss"]["slope"];
    m["separate_pss_per_camera_mib"] = added["steady"]["separate_pss"]["slope"];
    m["pass"] = worst.is_null() || !known ? json(nullptr) : json(worst.get<double>() <= 3 + buffer_mib);
    checks["memory_per_camera"] = m;
  }
  {
    json rt;
    rt["cameras"] = o.realtime_count;
    json pass = nullptr;
    for (const auto& r : runs)
      if (r["cameras"] == o.realtime_count && r.contains("shared")) {
        int64_t late = 0, preroll = 0, dropped = 0, before = 0;
        for (const auto& c : r["shared"]["cameras"]) {
          late += c["late_while_playing"].get<int64_t>();
          preroll += c["late_in_preroll"].get<int64_t>();
          dropped += c["sink_dropped"].get<int64_t>();
          before += c["dropped_before_element"].get<int64_t>();
        }
        rt["late_in_element_while_playing"] = late;
        rt["late_in_element_in_preroll"] = preroll;  // before the clock ran; not counted against real time
        rt["dropped_at_sink"] = dropped;
        rt["dropped_before_element"] = before;
        const bool complete = r["shared"]["errors"].empty() &&
                              static_cast<int>(r["shared"]["cameras"].size()) == o.realtime_count;
        pass = complete ? json(late == 0 && dropped == 0 && before == 0) : json(nullptr);
      }
    rt["pass"] = pass;
    checks["realtime"] = rt;
  }
  {
    json acc = json::array();
    for (const auto& r : runs) {
      json failing = json::array();
      bool measured = true;
      for (const auto& row : r["per_camera"]) {
        if (row["shared"].is_null() || !row["shared"].contains("shifted") || row["frozen"]["shifted"].is_null()) {
          measured = false;
          continue;
        }
        if (!(row["shared"]["shifted"].get<double>() > row["frozen"]["shifted"].get<double>()))
          failing.push_back(row["camera"]);
      }
      acc.push_back({{"cameras", r["cameras"]}, {"not_beating_frozen", failing},
                     {"pass", measured ? json(failing.empty()) : json(nullptr)}});
    }
    checks["adapted_beats_frozen_shifted"] = acc;
  }
  out["checks"] = checks;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  Options o;
  CLI::App app{"Many cameras, one frozen network: ecotta elements sharing a process against separate processes"};
  app.add_option("mode", o.mode, "compare (the benchmark) or run (one pipeline, as compare's child)")->required();
  app.add_option("--model", o.model, "Model bundle")->required();
  app.add_option("--videos", o.videos, "Folder of cam_I.avi and cam_I.jsonl (ecotta stream), I from 0")->required();
  app.add_option("--properties", o.properties, "Extra ecotta properties, e.g. \"learning-rate=0.001\"");
  app.add_option("--model-info", o.model_info, "compare: `ecotta inspect --json` of the model (its input size)");
  app.add_option("--threads", o.threads, "ecotta's threads property (0: the CPUs this process may run on)")
      ->capture_default_str();
  app.add_option("--counts", o.counts, "compare: camera counts")->capture_default_str();
  app.add_option("--kinds", o.kinds, "compare: runs per count, of shared, separate, identity")->capture_default_str();
  app.add_option("--group", o.group, "compare: the shared run's adaptation-group")->capture_default_str();
  app.add_option("--baseline-seconds", o.baseline_seconds, "compare: seconds of each identity run")
      ->capture_default_str();
  app.add_option("--realtime-count", o.realtime_count, "compare: the camera count the real-time check is made at")
      ->capture_default_str();
  app.add_option("--first", o.first, "run: the first camera's index")->capture_default_str();
  app.add_option("--cameras", o.cameras, "run: cameras, from --first")->capture_default_str()->check(CLI::Range(1, 256));
  app.add_option("--element", o.element, "run: ecotta or identity")->capture_default_str();
  app.add_option("--run-group", o.run_group, "run: adaptation-group (empty: none)");
  app.add_flag("--frozen", o.frozen, "run: adapt=false");
  app.add_flag("--unpaced", o.unpaced, "run: sinks with sync=false");
  app.add_option("--seconds", o.seconds, "run: stop after this many seconds (0: at end of stream)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    json result;
    if (o.mode == "run") result = run_pipeline(o);
    else if (o.mode == "compare") result = compare(o, command);
    else throw std::invalid_argument("mode '" + o.mode + "': use compare or run");
    std::printf("%s\n", result.dump(2).c_str());
    if (o.mode == "run" && result.contains("error")) {
      std::fprintf(stderr, "ecotta-cameras-bench: %s\n", result["error"].get<std::string>().c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ecotta-cameras-bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
