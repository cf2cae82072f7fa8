// The ecotta element in GstHarness and real pipelines: metadata on every
// frame, adaptation beside the video, every format and geometry, sad paths.
#include <malloc.h>
#include <gst/check/gstharness.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/video.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include <unistd.h>
#include <vector>

#include "ecotta-meta.h"
#include "gst_test_support.h"
#include "temp_dir.h"

using ecotta::test_support::init_gstreamer;
using ecotta::test_support::model_path;
using ecotta::test_support::run_pipeline;

namespace {

const std::string kClassifier = model_path("wrn-40-2-ecotta.ecotta");
const std::string kSegmenter = model_path("segmenter-ecotta.ecotta");

// A harness around one ecotta element with the given properties and caps.
class Harness {
 public:
  Harness(const std::string& properties, const std::string& caps) {
    init_gstreamer();
    h_ = gst_harness_new_parse(("ecotta " + properties).c_str());
    gst_harness_set_src_caps_str(h_, caps.c_str());
    // new_parse wraps the element in a bin: properties live on the element.
    element_ = gst_harness_find_element(h_, "ecotta");
  }
  ~Harness() {
    if (element_) gst_object_unref(element_);
    gst_harness_teardown(h_);
  }
  GstHarness* get() { return h_; }
  GstElement* element() { return element_; }

  // Pushes `buffer` (taking it) and returns what came out (caller unrefs).
  GstBuffer* push_pull(GstBuffer* buffer) {
    EXPECT_EQ(gst_harness_push(h_, buffer), GST_FLOW_OK);
    return gst_harness_pull(h_);
  }

 private:
  GstHarness* h_;
  GstElement* element_ = nullptr;
};

// A frame of `bytes` filled by a pattern that depends on `seed`.
GstBuffer* patterned_buffer(size_t bytes, uint32_t seed, GstClockTime pts) {
  GstBuffer* b = gst_buffer_new_allocate(nullptr, bytes, nullptr);
  GstMapInfo map;
  gst_buffer_map(b, &map, GST_MAP_WRITE);
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < bytes; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    map.data[i] = static_cast<guint8>(x);
  }
  gst_buffer_unmap(b, &map);
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = GST_SECOND / 30;
  return b;
}

size_t frame_bytes(const std::string& format, int width, int height) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, gst_video_format_from_string(format.c_str()), width, height);
  return GST_VIDEO_INFO_SIZE(&info);
}

std::string caps_for(const std::string& format, int width, int height) {
  return "video/x-raw,format=" + format + ",width=" + std::to_string(width) + ",height=" + std::to_string(height) +
         ",framerate=30/1";
}

guint64 uint64_property(GstElement* e, const char* name) {
  guint64 v = 0;
  g_object_get(e, name, &v, nullptr);
  return v;
}

}  // namespace

TEST(EcottaElement, EveryFrameGetsMetadataInOrderWithTimestampsUntouched) {
  Harness h("model=" + kClassifier + " adapt=false", caps_for("RGB", 64, 48));
  const size_t bytes = frame_bytes("RGB", 64, 48);
  for (uint32_t i = 0; i < 20; ++i) {
    const GstClockTime pts = i * (GST_SECOND / 30);
    GstBuffer* in = patterned_buffer(bytes, i, pts);
    gst_buffer_ref(in);
    GstBuffer* out = h.push_pull(in);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(GST_BUFFER_PTS(out), pts);
    EXPECT_EQ(GST_BUFFER_DURATION(out), GST_SECOND / 30);
    auto* m = ecotta_buffer_get_meta(out);
    ASSERT_NE(m, nullptr) << "frame " << i;
    EXPECT_EQ(m->frame, i);
    EXPECT_EQ(m->task, ECOTTA_TASK_CLASSIFY);
    EXPECT_GE(m->class_id, 0);
    EXPECT_LT(m->class_id, 10);
    EXPECT_STREQ(m->label, m->labels[m->class_id]);
    EXPECT_GT(m->confidence, 0.f);
    EXPECT_EQ(m->n_top, 5u);
    EXPECT_STREQ(m->method, "ecotta");
    EXPECT_FALSE(m->reused);
    // Pixels untouched: the element only reads the frame.
    GstMapInfo a, b;
    gst_buffer_map(in, &a, GST_MAP_READ);
    gst_buffer_map(out, &b, GST_MAP_READ);
    ASSERT_EQ(a.size, b.size);
    EXPECT_EQ(0, memcmp(a.data, b.data, a.size));
    gst_buffer_unmap(in, &a);
    gst_buffer_unmap(out, &b);
    // The same result for applications without our header.
    auto* roi = gst_buffer_get_video_region_of_interest_meta_id(out, 0);
    ASSERT_NE(roi, nullptr);
    EXPECT_EQ(roi->w, 64u);
    EXPECT_EQ(roi->h, 48u);
    const GstStructure* param = gst_video_region_of_interest_meta_get_param(roi, "ecotta");
    ASSERT_NE(param, nullptr);
    EXPECT_STREQ(gst_structure_get_string(param, "label"), m->label);
    int label_id = -1;
    EXPECT_TRUE(gst_structure_get_int(param, "label_id", &label_id));
    EXPECT_EQ(label_id, m->class_id);
    gst_buffer_unref(in);
    gst_buffer_unref(out);
  }
  EXPECT_EQ(uint64_property(h.element(), "frames"), 20u);
}

TEST(EcottaElement, AdaptsWhileFramesFlowAndTheAdaptedStateReachesPredictions) {
  Harness h("model=" + kClassifier + " adapt-batch-size=8 adapt-sample-interval=1", caps_for("BGRx", 96, 64));
  const size_t bytes = frame_bytes("BGRx", 96, 64);
  GstBuffer* probe = patterned_buffer(bytes, 999, 0);
  GstBuffer* first = h.push_pull(gst_buffer_ref(probe));
  const EcottaMeta before = *ecotta_buffer_get_meta(first);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  uint32_t i = 1;
  while (uint64_property(h.element(), "adapt-steps") < 5 && std::chrono::steady_clock::now() < deadline) {
    gst_buffer_unref(h.push_pull(patterned_buffer(bytes, i, i * GST_SECOND / 30)));
    ++i;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(uint64_property(h.element(), "adapt-steps"), 5u);
  EXPECT_GT(uint64_property(h.element(), "peak-adapt-bytes"), 0u);
  GstBuffer* later = h.push_pull(gst_buffer_ref(probe));
  const auto* after = ecotta_buffer_get_meta(later);
  ASSERT_NE(after, nullptr);
  EXPECT_GT(after->snapshot, before.snapshot);
  EXPECT_GT(after->adapt_steps, 0u);
  EXPECT_TRUE(after->adapting);
  // Same frame, adapted meta networks: the prediction moved.
  EXPECT_NE(after->top[0].score, before.top[0].score);
  gst_buffer_unref(first);
  gst_buffer_unref(later);
  gst_buffer_unref(probe);
}

TEST(EcottaElement, AdaptFalseChangesNothingAndCanBeToggledWhilePlaying) {
  Harness h("model=" + kClassifier + " adapt=false adapt-batch-size=8 adapt-sample-interval=1",
            caps_for("RGB", 64, 48));
  const size_t bytes = frame_bytes("RGB", 64, 48);
  GstBuffer* probe = patterned_buffer(bytes, 4242, 0);
  GstBuffer* first = h.push_pull(gst_buffer_ref(probe));
  const EcottaMeta before = *ecotta_buffer_get_meta(first);
  for (uint32_t i = 1; i < 80; ++i) gst_buffer_unref(h.push_pull(patterned_buffer(bytes, i, i)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  GstBuffer* again = h.push_pull(gst_buffer_ref(probe));
  const auto* same = ecotta_buffer_get_meta(again);
  EXPECT_EQ(uint64_property(h.element(), "adapt-steps"), 0u);
  EXPECT_EQ(same->snapshot, before.snapshot);
  EXPECT_FALSE(same->adapting);
  for (guint k = 0; k < before.n_top; ++k) {
    EXPECT_EQ(same->top[k].class_id, before.top[k].class_id);
    EXPECT_EQ(same->top[k].score, before.top[k].score);
  }
  // Switched on while playing: steps follow.
  g_object_set(h.element(), "adapt", TRUE, nullptr);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint32_t i = 100; uint64_property(h.element(), "adapt-steps") < 2 && std::chrono::steady_clock::now() < deadline; ++i) {
    gst_buffer_unref(h.push_pull(patterned_buffer(bytes, i, i)));
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(uint64_property(h.element(), "adapt-steps"), 2u);
  gst_buffer_unref(first);
  gst_buffer_unref(again);
  gst_buffer_unref(probe);
}

TEST(EcottaElement, AMemoryCapSetWhilePlayingHoldsFromTheNextStepAndIsAnnounced) {
  Harness h("model=" + kClassifier + " adapt-sample-interval=1", caps_for("RGB", 64, 48));
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h.get()->element, bus);  // the harness's bin, which the element posts through
  const size_t bytes = frame_bytes("RGB", 64, 48);
  uint32_t seed = 1;
  const auto push_until_steps = [&](guint64 steps) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (uint64_property(h.element(), "adapt-steps") < steps && std::chrono::steady_clock::now() < deadline) {
      gst_buffer_unref(h.push_pull(patterned_buffer(bytes, seed, seed)));
      ++seed;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return uint64_property(h.element(), "adapt-steps");
  };
  ASSERT_GE(push_until_steps(2), 2u);
  const guint64 uncapped = uint64_property(h.element(), "peak-adapt-bytes");
  ASSERT_GT(uncapped, 0u);
  const guint64 cap = uncapped / 2;
  g_object_set(h.element(), "memory-cap", cap, nullptr);
  // A step under way when the cap changed ends under the old plan; the
  // peak restarts with the new one, so two more steps are all new.
  const guint64 at_change = uint64_property(h.element(), "adapt-steps");
  ASSERT_GE(push_until_steps(at_change + 3), at_change + 3);
  const guint64 peak = uint64_property(h.element(), "peak-adapt-bytes");
  EXPECT_GT(peak, 0u);
  EXPECT_LE(peak, cap);
  bool announced = false;
  while (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_INFO)) {
    GError* error = nullptr;
    gst_message_parse_info(msg, &error, nullptr);
    if (error && std::string(error->message).find("memory-cap " + std::to_string(cap)) != std::string::npos)
      announced = true;
    if (error) g_error_free(error);
    gst_message_unref(msg);
  }
  EXPECT_TRUE(announced);
  gst_element_set_bus(h.get()->element, nullptr);
  gst_object_unref(bus);
}

TEST(EcottaElement, EveryFormatAndOddSizesWork) {
  const std::vector<std::string> formats = {"RGB",  "BGR",  "RGBx", "BGRx",  "xRGB", "xBGR", "RGBA",
                                            "BGRA", "ARGB", "ABGR", "GRAY8", "I420", "NV12"};
  const std::vector<std::pair<int, int>> sizes = {{1, 1}, {33, 17}, {1920, 1080}};
  for (const auto& format : formats)
    for (const auto& [w, hgt] : sizes) {
      Harness h("model=" + kClassifier + " adapt=false", caps_for(format, w, hgt));
      GstBuffer* out = h.push_pull(patterned_buffer(frame_bytes(format, w, hgt), 1, 0));
      ASSERT_NE(out, nullptr) << format << " " << w << "x" << hgt;
      const auto* m = ecotta_buffer_get_meta(out);
      ASSERT_NE(m, nullptr) << format << " " << w << "x" << hgt;
      EXPECT_GE(m->class_id, 0) << format;
      gst_buffer_unref(out);
    }
}

TEST(EcottaElement, PaddedStridesGiveTheSameResultAsPackedRows) {
  // 33x17 RGB: rows of 99 bytes, once packed (GStreamer pads to 100) and
  // once with 128-byte strides described by a GstVideoMeta.
  const int w = 33, hgt = 17;
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_RGB, w, hgt);
  GstBuffer* packed = patterned_buffer(GST_VIDEO_INFO_SIZE(&info), 7, 0);
  const int padded_stride = 128;
  GstBuffer* padded = gst_buffer_new_allocate(nullptr, static_cast<gsize>(padded_stride * hgt), nullptr);
  {
    GstMapInfo src, dst;
    gst_buffer_map(packed, &src, GST_MAP_READ);
    gst_buffer_map(padded, &dst, GST_MAP_WRITE);
    memset(dst.data, 0xAB, dst.size);  // padding that must be ignored
    for (int y = 0; y < hgt; ++y)
      memcpy(dst.data + y * padded_stride, src.data + y * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0), static_cast<size_t>(w * 3));
    gst_buffer_unmap(packed, &src);
    gst_buffer_unmap(padded, &dst);
  }
  gsize offsets[GST_VIDEO_MAX_PLANES] = {0};
  gint strides[GST_VIDEO_MAX_PLANES] = {padded_stride};
  gst_buffer_add_video_meta_full(padded, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_RGB, w, hgt, 1, offsets, strides);
  Harness h("model=" + kClassifier + " adapt=false", caps_for("RGB", w, hgt));
  GstBuffer* a = h.push_pull(packed);
  GstBuffer* b = h.push_pull(padded);
  const auto* ma = ecotta_buffer_get_meta(a);
  const auto* mb = ecotta_buffer_get_meta(b);
  ASSERT_TRUE(ma && mb);
  EXPECT_EQ(ma->class_id, mb->class_id);
  EXPECT_FLOAT_EQ(ma->confidence, mb->confidence);
  gst_buffer_unref(a);
  gst_buffer_unref(b);
}

TEST(EcottaElement, SegmenterAttachesAClassMapSharesAndTheView) {
  Harness h("model=" + kSegmenter + " adapt=false", caps_for("I420", 320, 240));
  GstBuffer* out = h.push_pull(patterned_buffer(frame_bytes("I420", 320, 240), 3, 0));
  const auto* m = ecotta_buffer_get_meta(out);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->task, ECOTTA_TASK_SEGMENT);
  EXPECT_EQ(m->map_width, 64u);
  EXPECT_EQ(m->map_height, 64u);
  ASSERT_NE(m->class_map, nullptr);
  ASSERT_NE(m->class_share, nullptr);
  double total = 0;
  for (guint c = 0; c < m->n_classes; ++c) total += m->class_share[c];
  EXPECT_NEAR(total, 1.0, 1e-4);
  for (guint i = 0; i < m->map_width * m->map_height; ++i) ASSERT_LT(m->class_map[i], m->n_classes);
  // The segmenter squashes: it saw the whole frame.
  EXPECT_EQ(m->view_x, 0);
  EXPECT_EQ(m->view_y, 0);
  EXPECT_EQ(m->view_width, 320);
  EXPECT_EQ(m->view_height, 240);
  // method=auto (the default) runs a segmenter with robust statistics only:
  // EcoTTA's steps lost to it on the segmentation validation stream.
  EXPECT_STREQ(m->method, "norm");
  gst_buffer_unref(out);
}

TEST(EcottaElement, ClassifierCropsTheCentralSquare) {
  Harness h("model=" + kClassifier + " adapt=false", caps_for("RGB", 640, 480));
  GstBuffer* out = h.push_pull(patterned_buffer(frame_bytes("RGB", 640, 480), 3, 0));
  const auto* m = ecotta_buffer_get_meta(out);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->view_x, 80);
  EXPECT_EQ(m->view_y, 0);
  EXPECT_EQ(m->view_width, 480);
  EXPECT_EQ(m->view_height, 480);
  gst_buffer_unref(out);
}

TEST(EcottaElement, BadModelFilesGiveAnErrorNamingTheFile) {
  init_gstreamer();
  ecotta::testing::TempDir dir;
  std::ifstream in(kClassifier, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const auto truncated = dir.file("truncated.ecotta");
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  const auto garbage = dir.file("garbage.ecotta");
  std::ofstream(garbage, std::ios::binary) << "GIF89a not a model at all";
  const auto empty = dir.file("empty.ecotta");
  std::ofstream(empty, std::ios::binary) << "";
  for (const std::string& path : {dir.file("missing.ecotta"), truncated, garbage, empty}) {
    const auto error = run_pipeline("videotestsrc num-buffers=3 ! ecotta model=" + path + " ! fakesink");
    EXPECT_NE(error.find(path), std::string::npos) << "error was: " << error;
  }
  const auto none = run_pipeline("videotestsrc num-buffers=3 ! ecotta ! fakesink");
  EXPECT_NE(none.find("model"), std::string::npos) << none;
}

TEST(EcottaElement, UnsupportedCapsAreRefused) {
  init_gstreamer();
  const auto error = run_pipeline("videotestsrc num-buffers=3 ! video/x-raw,format=YUY2 ! ecotta model=" + kClassifier +
                                  " ! fakesink");
  EXPECT_FALSE(error.empty());
}

TEST(EcottaElement, CudaWithoutCudaIsAClearErrorAtStart) {
  init_gstreamer();
  const auto error =
      run_pipeline("videotestsrc num-buffers=3 ! ecotta device=cuda model=" + kClassifier + " ! fakesink");
  // On a build with CUDA and a GPU this pipeline runs; otherwise it must say why not.
  if (!error.empty()) {
    EXPECT_NE(error.find("cuda"), std::string::npos) << error;
  }
}

TEST(EcottaElement, StatsMessagesAreElementMessagesNamedEcottaStats) {
  init_gstreamer();
  GstElement* pipeline = gst_parse_launch(
      ("videotestsrc num-buffers=60 ! video/x-raw,width=64,height=48 ! ecotta stats-interval=0.001 model=" +
       kClassifier + " ! fakesink")
          .c_str(),
      nullptr);
  ASSERT_NE(pipeline, nullptr);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  int stats = 0;
  guint64 last_frames = 0;
  while (GstMessage* msg = gst_bus_timed_pop_filtered(
             bus, 60 * GST_SECOND,
             static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR))) {
    const bool done = GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ELEMENT;
    if (const GstStructure* s = gst_message_get_structure(msg); s && gst_structure_has_name(s, "ecotta-stats")) {
      ++stats;
      EXPECT_TRUE(gst_structure_get_uint64(s, "frames", &last_frames));
      EXPECT_STREQ(gst_structure_get_string(s, "method"), "ecotta");
      EXPECT_TRUE(gst_structure_has_field(s, "peak-adapt-bytes"));
      EXPECT_TRUE(gst_structure_has_field(s, "mean-entropy"));
    }
    EXPECT_NE(GST_MESSAGE_TYPE(msg), GST_MESSAGE_ERROR);
    gst_message_unref(msg);
    if (done) break;
  }
  EXPECT_GE(stats, 2);
  EXPECT_EQ(last_frames, 60u);  // the end-of-stream message counts every frame
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

TEST(EcottaElement, CheckpointIsSavedOnStopAndRestoredAtStart) {
  init_gstreamer();
  ecotta::testing::TempDir dir;
  const auto checkpoint = dir.file("camera1.state");
  const std::string pipeline = "videotestsrc num-buffers=120 pattern=ball ! video/x-raw,width=64,height=48 ! ecotta "
                               "adapt-batch-size=8 adapt-sample-interval=1 checkpoint-location=" +
                               checkpoint + " model=" + kClassifier + " ! fakesink";
  EXPECT_EQ(run_pipeline(pipeline), "");
  ASSERT_TRUE(std::filesystem::exists(checkpoint));
  const auto size = std::filesystem::file_size(checkpoint);
  EXPECT_GT(size, 1000u);
  // Restored without a warning, and saved again.
  EXPECT_EQ(run_pipeline(pipeline), "");
  // A checkpoint of another method is refused with a warning, not an error.
  const auto other = run_pipeline("videotestsrc num-buffers=5 ! ecotta method=tent checkpoint-location=" + checkpoint +
                                  " model=" + kClassifier + " ! fakesink");
  EXPECT_EQ(other, "");
}

TEST(EcottaElement, FiftyStateCyclesAndEosWithAFullBufferLeaveNoThreadBehind) {
  init_gstreamer();
  GstElement* pipeline = gst_parse_launch(
      ("videotestsrc is-live=false num-buffers=40 ! video/x-raw,width=64,height=48 ! ecotta adapt-batch-size=4 "
       "adapt-sample-interval=1 model=" +
       kClassifier + " ! fakesink")
          .c_str(),
      nullptr);
  ASSERT_NE(pipeline, nullptr);
  auto threads = [] {
    size_t n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) (void)e, ++n;
    return n;
  };
  auto rss_mib = [] {
    // Free heap pages back to the system first: what stays resident is then
    // what is still allocated, not glibc's arenas after a shuffle of frees
    // (without it, whole-suite runs varied by +-20 MiB).
    malloc_trim(0);
    long pages = 0, resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "r")) {
      if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
      std::fclose(f);
    }
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
  };
  size_t baseline = 0;
  double rss_after_warmup = 0;
  for (int cycle = 0; cycle < 50; ++cycle) {
    ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
    GstBus* bus = gst_element_get_bus(pipeline);
    if (cycle % 10 == 0) {  // now and then run to EOS with samples waiting in the buffer
      GstMessage* msg = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                                   static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
      ASSERT_NE(msg, nullptr);
      EXPECT_EQ(GST_MESSAGE_TYPE(msg), GST_MESSAGE_EOS);
      gst_message_unref(msg);
    } else {
      gst_element_get_state(pipeline, nullptr, nullptr, 10 * GST_SECOND);
    }
    gst_object_unref(bus);
    ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_FAILURE);
    if (cycle == 1) baseline = threads();
    if (cycle == 9) rss_after_warmup = rss_mib();
  }
  // Each start loads the model twice (~20 MB) and frees it at stop: 40 more
  // cycles must not keep what they loaded.
  const double growth = rss_mib() - rss_after_warmup;
  std::printf("RSS after 10 cycles %.1f MiB, growth over 40 more %.1f MiB\n", rss_after_warmup, growth);
  EXPECT_LT(growth, 20.0);
  // LibTorch's OpenMP pool may keep its threads; our worker must not add one per cycle.
  EXPECT_LE(threads(), baseline + 2);
  gst_object_unref(pipeline);
}

TEST(EcottaElement, FlushingSeeksKeepResultsComing) {
  init_gstreamer();
  GstElement* pipeline = gst_parse_launch(
      ("videotestsrc ! video/x-raw,width=64,height=48,framerate=30/1 ! ecotta name=e adapt-batch-size=4 "
       "adapt-sample-interval=1 model=" +
       kClassifier + " ! fakesink name=sink sync=false")
          .c_str(),
      nullptr);
  ASSERT_NE(pipeline, nullptr);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  struct Counts {
    std::atomic<int> buffers{0}, with_meta{0};
  } counts;
  gst_pad_add_probe(
      pad, GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        auto* c = static_cast<Counts*>(data);
        ++c->buffers;
        if (ecotta_buffer_get_meta(GST_PAD_PROBE_INFO_BUFFER(info))) ++c->with_meta;
        return GST_PAD_PROBE_OK;
      },
      &counts, nullptr);
  ASSERT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  ASSERT_EQ(gst_element_get_state(pipeline, nullptr, nullptr, 30 * GST_SECOND), GST_STATE_CHANGE_SUCCESS);
  for (int seek = 0; seek < 10; ++seek) {
    const int before = counts.buffers.load();
    ASSERT_TRUE(gst_element_seek_simple(pipeline, GST_FORMAT_TIME,
                                        static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT),
                                        (seek % 3) * GST_SECOND));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (counts.buffers.load() < before + 10 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_GE(counts.buffers.load(), before + 10) << "after seek " << seek;
  }
  EXPECT_EQ(counts.buffers.load(), counts.with_meta.load());
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pad);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
}

// Two cameras in one pipeline sharing an adaptation group: one worker for
// both (its steps are both cameras'), one memory cap (set on one of them),
// one copy of the frozen weights; each camera's figures on the bus and in
// its metadata log under its own name.
TEST(EcottaElement, CamerasOfOneAdaptationGroupShareAWorkerACapAndTheWeights) {
  init_gstreamer();
  const ecotta::testing::TempDir dir;
  const auto branch = [&](const std::string& name, const std::string& extra, int pattern) {
    return "videotestsrc pattern=" + std::to_string(pattern) +
           " ! video/x-raw,format=RGB,width=64,height=48 ! identity sleep-time=8000 ! ecotta name=" + name +
           " model=" + kClassifier + " adaptation-group=yard adapt-sample-interval=1 stats-interval=0.05 " + extra +
           " ! ecottametalog location=" + dir.file(name + ".jsonl") + " ! fakesink ";
  };
  const guint64 cap = 40 * 1024 * 1024;
  GstElement* pipeline = gst_parse_launch(
      (branch("gate", "", 0) + branch("dock", "memory-cap=" + std::to_string(cap), 18)).c_str(), nullptr);
  ASSERT_NE(pipeline, nullptr);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  std::map<std::string, GstStructure*> last;  // each camera's last ecotta-stats
  // The cameras run until each has stepped under the group's cap (the
  // worker calibrates the cap first), then end with EOS: a fixed number of
  // frames would be too few on a slow machine or under a sanitizer.
  const auto stepped_under_the_cap = [&] {
    if (last.size() != 2) return false;
    for (const auto& [camera, s] : last) {
      gint64 steps = 0, memory_cap = 0;
      gst_structure_get_int64(s, "adapt-steps", &steps);
      gst_structure_get_int64(s, "memory-cap", &memory_cap);
      if (steps < 1 || memory_cap != static_cast<gint64>(cap)) return false;
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(300);
  bool eos_sent = false;
  while (GstMessage* msg = gst_bus_timed_pop_filtered(
             bus, 120 * GST_SECOND,
             static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR))) {
    const bool done = GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ELEMENT;
    if (const GstStructure* s = gst_message_get_structure(msg); s && gst_structure_has_name(s, "ecotta-stats")) {
      auto& slot = last[gst_structure_get_string(s, "camera")];
      if (slot) gst_structure_free(slot);
      slot = gst_structure_copy(s);
    }
    EXPECT_NE(GST_MESSAGE_TYPE(msg), GST_MESSAGE_ERROR);
    gst_message_unref(msg);
    if (done) break;
    if (!eos_sent && (stepped_under_the_cap() || std::chrono::steady_clock::now() > deadline)) {
      gst_element_send_event(pipeline, gst_event_new_eos());
      eos_sent = true;
    }
  }
  ASSERT_TRUE(eos_sent) << "the pipeline ended before the cameras stepped";
  ASSERT_EQ(last.size(), 2u);
  gint64 steps_sum = 0, group_steps = 0;
  for (const auto& [camera, s] : last) {
    SCOPED_TRACE(camera);
    EXPECT_STREQ(gst_structure_get_string(s, "adaptation-group"), "yard");
    gint64 cameras = 0, steps = 0, shared = 0, peak = 0, memory_cap = 0, g = 0;
    gst_structure_get_int64(s, "group-cameras", &cameras);
    gst_structure_get_int64(s, "adapt-steps", &steps);
    gst_structure_get_int64(s, "group-steps", &g);
    gst_structure_get_int64(s, "shared-weight-bytes", &shared);
    gst_structure_get_int64(s, "group-peak-adapt-bytes", &peak);
    gst_structure_get_int64(s, "memory-cap", &memory_cap);
    EXPECT_EQ(cameras, 2);
    EXPECT_GE(steps, 1);
    EXPECT_GT(shared, 1'000'000);  // WRN-40-2's frozen weights, read from the one copy
    EXPECT_EQ(memory_cap, static_cast<gint64>(cap));  // set on dock, the group's
    EXPECT_LE(peak, static_cast<gint64>(cap));
    steps_sum += steps;
    group_steps = std::max(group_steps, g);
  }
  EXPECT_GE(group_steps, steps_sum - 2);  // one worker stepped both (a stats message may lag a step)
  for (auto& [camera, s] : last) gst_structure_free(s);
  gst_object_unref(bus);
  std::map<std::string, guint64> frames;  // each camera's frames, for its log's lines
  for (const std::string camera : {"gate", "dock"}) {
    GstElement* e = gst_bin_get_by_name(GST_BIN(pipeline), camera.c_str());
    g_object_get(e, "frames", &frames[camera], nullptr);
    gst_object_unref(e);
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  for (const std::string camera : {"gate", "dock"}) {
    SCOPED_TRACE(camera);
    std::ifstream in(dir.file(camera + ".jsonl"));
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) {
      ++lines;
      EXPECT_NE(line.find("\"camera\":\"" + camera + "\""), std::string::npos) << line.substr(0, 200);
      EXPECT_NE(line.find("\"adaptation_group\":\"yard\""), std::string::npos);
    }
    EXPECT_GT(lines, 0);
    EXPECT_EQ(static_cast<guint64>(lines), frames[camera]);  // a line per frame
  }
}
