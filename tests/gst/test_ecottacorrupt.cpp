// ecottacorrupt in a GstHarness and in real pipelines: clean frames pass
// bit-identical, the schedule switches at the right buffer times and says
// so on the bus, seeds reproduce, every format and odd sizes work, bad
// schedules and caps are refused.
#include <glib/gstdio.h>
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gst_test_support.h"

namespace {

using ecotta::test_support::init_gstreamer;
using ecotta::test_support::run_pipeline;

const char* const kFormats[] = {"RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR", "RGBA", "BGRA", "ARGB", "ABGR"};

// The element in a harness with its own bus, so its messages can be read.
struct Harness {
  GstHarness* h = nullptr;
  GstElement* element = nullptr;  // the ecottacorrupt inside the harness's bin
  GstBus* bus = nullptr;
  GstVideoInfo info;

  Harness(const std::string& properties, const std::string& format, int width, int height, int fps = 10) {
    init_gstreamer();
    h = gst_harness_new_parse(("ecottacorrupt " + properties).c_str());
    element = gst_harness_find_element(h, "ecottacorrupt");
    bus = gst_bus_new();
    gst_element_set_bus(h->element, bus);
    gst_video_info_set_format(&info, gst_video_format_from_string(format.c_str()), width, height);
    info.fps_n = fps;
    info.fps_d = 1;
    GstCaps* caps = gst_video_info_to_caps(&info);
    gst_harness_set_src_caps(h, caps);
  }
  ~Harness() {
    gst_element_set_bus(h->element, nullptr);
    gst_object_unref(bus);
    gst_object_unref(element);
    gst_harness_teardown(h);
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // Pushes one frame (a fixed picture) at `pts` and returns the output's bytes.
  std::vector<uint8_t> push(GstClockTime pts, GstClockTime duration = 100 * GST_MSECOND) {
    GstBuffer* in = make_frame(info);
    GST_BUFFER_PTS(in) = pts;
    GST_BUFFER_DURATION(in) = duration;
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    EXPECT_NE(out, nullptr);
    if (!out) return {};
    EXPECT_EQ(GST_BUFFER_PTS(out), pts);
    EXPECT_EQ(GST_BUFFER_DURATION(out), duration);
    std::vector<uint8_t> bytes = bytes_of(out);
    gst_buffer_unref(out);
    return bytes;
  }

  // The ecotta-condition messages posted so far, as "name@severity pts_ms".
  std::vector<std::string> conditions() {
    std::vector<std::string> seen;
    while (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
      const GstStructure* s = gst_message_get_structure(msg);
      if (gst_structure_has_name(s, "ecotta-condition")) {
        int severity = -1;
        guint64 pts = 0;
        EXPECT_TRUE(gst_structure_get_int(s, "severity", &severity));
        EXPECT_TRUE(gst_structure_get_uint64(s, "pts", &pts));
        EXPECT_NE(gst_structure_get_string(s, "condition"), nullptr);
        seen.push_back(std::string(gst_structure_get_string(s, "name")) + "@" + std::to_string(severity) + " " +
                       std::to_string(pts / GST_MSECOND));
      }
      gst_message_unref(msg);
    }
    return seen;
  }

  std::string error() {
    GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    if (!msg) return "";
    GError* err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    std::string text = err ? err->message : "";
    g_clear_error(&err);
    gst_message_unref(msg);
    return text;
  }

  std::string condition() {
    gchar* value = nullptr;
    g_object_get(element, "condition", &value, nullptr);
    std::string text = value ? value : "";
    g_free(value);
    return text;
  }

  // A frame whose red, green and blue depend only on (x, y), the same in
  // every format; the fourth byte and row padding hold their own values.
  static GstBuffer* make_frame(const GstVideoInfo& info) {
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    std::fill(map.data, map.data + map.size, uint8_t{0xAB});
    const GstVideoFormatInfo* f = info.finfo;
    const int pstride = GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0);
    for (int y = 0; y < GST_VIDEO_INFO_HEIGHT(&info); ++y)
      for (int x = 0; x < GST_VIDEO_INFO_WIDTH(&info); ++x) {
        uint8_t* px = map.data + y * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0) + x * pstride;
        if (pstride == 4) px[0] = px[1] = px[2] = px[3] = static_cast<uint8_t>(x * 3 + y * 5);  // alpha / x
        px[GST_VIDEO_FORMAT_INFO_POFFSET(f, GST_VIDEO_COMP_R)] = static_cast<uint8_t>(40 + (x * 170) / (x + 20));
        px[GST_VIDEO_FORMAT_INFO_POFFSET(f, GST_VIDEO_COMP_G)] = static_cast<uint8_t>(30 + (y * 190) / (y + 10));
        px[GST_VIDEO_FORMAT_INFO_POFFSET(f, GST_VIDEO_COMP_B)] = static_cast<uint8_t>((x + y) % 2 ? 60 : 200);
      }
    gst_buffer_unmap(buf, &map);
    return buf;
  }

  static std::vector<uint8_t> bytes_of(GstBuffer* buf) {
    std::vector<uint8_t> bytes(gst_buffer_get_size(buf));
    gst_buffer_extract(buf, 0, bytes.data(), bytes.size());
    return bytes;
  }

  std::vector<uint8_t> input() {
    GstBuffer* buf = make_frame(info);
    std::vector<uint8_t> bytes = bytes_of(buf);
    gst_buffer_unref(buf);
    return bytes;
  }

  // The frame's pixels as packed RGB, whatever the format.
  std::vector<uint8_t> rgb_of(const std::vector<uint8_t>& bytes) const {
    std::vector<uint8_t> rgb;
    const GstVideoFormatInfo* f = info.finfo;
    const int pstride = GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0);
    for (int y = 0; y < GST_VIDEO_INFO_HEIGHT(&info); ++y)
      for (int x = 0; x < GST_VIDEO_INFO_WIDTH(&info); ++x) {
        const uint8_t* px = bytes.data() + y * GST_VIDEO_INFO_PLANE_STRIDE(&info, 0) + x * pstride;
        for (auto comp : {GST_VIDEO_COMP_R, GST_VIDEO_COMP_G, GST_VIDEO_COMP_B})
          rgb.push_back(px[GST_VIDEO_FORMAT_INFO_POFFSET(f, comp)]);
      }
    return rgb;
  }

  // Every byte that is not a colour byte of a pixel: alpha / x and padding.
  std::vector<uint8_t> non_colour_of(const std::vector<uint8_t>& bytes) const {
    std::vector<uint8_t> rest;
    const GstVideoFormatInfo* f = info.finfo;
    const int pstride = GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0);
    const int stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
    const auto offset = [f](int comp) { return static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(f, comp)); };
    for (size_t i = 0; i < bytes.size(); ++i) {
      const int x = static_cast<int>(i % stride) / pstride, byte = static_cast<int>(i % stride) % pstride;
      const bool colour = x < GST_VIDEO_INFO_WIDTH(&info) &&
                          (byte == offset(GST_VIDEO_COMP_R) || byte == offset(GST_VIDEO_COMP_G) ||
                           byte == offset(GST_VIDEO_COMP_B));
      if (!colour) rest.push_back(bytes[i]);
    }
    return rest;
  }
};

GstClockTime frame_time(int i) { return static_cast<GstClockTime>(i) * 100 * GST_MSECOND; }

}  // namespace

TEST(EcottaCorrupt, CleanFramesPassBitIdenticalInEveryFormat) {
  for (const char* format : kFormats) {
    Harness h("schedule=\"clean:1\"", format, 33, 17);
    const std::vector<uint8_t> in = h.input();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(h.push(frame_time(i)), in) << format;
    EXPECT_EQ(h.condition(), "clean");
  }
}

TEST(EcottaCorrupt, FogChangesEveryFrameAndKeepsAlphaAndPadding) {
  for (const char* format : {"RGB", "BGRA", "xRGB"}) {
    Harness h("schedule=\"fog:1\"", format, 64, 48);
    const std::vector<uint8_t> in = h.input();
    for (int i = 0; i < 3; ++i) {
      const std::vector<uint8_t> out = h.push(frame_time(i));
      EXPECT_NE(h.rgb_of(out), h.rgb_of(in)) << format;
      EXPECT_EQ(h.non_colour_of(out), h.non_colour_of(in)) << format;
    }
    EXPECT_EQ(h.condition(), "fog@5");
  }
}

TEST(EcottaCorrupt, SwitchesAtTheScheduledBufferTimesAndPostsConditions) {
  // 10 fps from a first PTS of 5 s: the schedule's clock starts at the first buffer.
  Harness h("schedule=\"clean:1,gaussian_noise@2:1\"", "RGB", 40, 30, 10);
  const std::vector<uint8_t> in = h.input();
  const GstClockTime start = 5 * GST_SECOND;
  for (int i = 0; i < 25; ++i) {
    const std::vector<uint8_t> out = h.push(start + frame_time(i));
    const bool noisy = i >= 10 && i < 20;  // the schedule repeats after 2 s
    EXPECT_EQ(out != in, noisy) << "buffer " << i;
    if (i == 15) {
      EXPECT_EQ(h.condition(), "gaussian_noise@2");
    }
  }
  EXPECT_EQ(h.conditions(), (std::vector<std::string>{"clean@0 5000", "gaussian_noise@2 6000", "clean@0 7000"}));
  EXPECT_EQ(h.condition(), "clean");
}

TEST(EcottaCorrupt, RampsStepThroughSeverities) {
  Harness h("schedule=\"contrast@1-3:0.3\"", "BGRx", 16, 16, 10);
  for (int i = 0; i < 3; ++i) h.push(frame_time(i));
  EXPECT_EQ(h.conditions(), (std::vector<std::string>{"contrast@1 0", "contrast@2 100", "contrast@3 200"}));
}

TEST(EcottaCorrupt, TheSeedReproducesTheNoise) {
  const auto run = [](const std::string& seed) {
    Harness h("schedule=\"gaussian_noise@3:10\" seed=" + seed, "RGBx", 32, 24);
    std::vector<std::vector<uint8_t>> frames;
    for (int i = 0; i < 3; ++i) frames.push_back(h.push(frame_time(i)));
    return frames;
  };
  const auto a = run("1"), b = run("1"), c = run("18446744073709551615");
  EXPECT_EQ(a, b);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NE(a[i], c[i]) << "frame " << i;
  EXPECT_NE(a[0], a[1]);  // each frame gets noise of its own
}

TEST(EcottaCorrupt, EveryFormatAndOddSizeGivesTheSameColours) {
  for (const auto& [w, hgt] : {std::pair{1, 1}, std::pair{33, 17}, std::pair{7, 2}}) {
    std::vector<uint8_t> reference;
    for (const char* format : kFormats) {
      Harness h("schedule=\"night@3:5\" seed=4", format, w, hgt);
      const std::vector<uint8_t> in = h.input();
      const std::vector<uint8_t> out = h.push(0);
      ASSERT_EQ(out.size(), in.size()) << format;
      EXPECT_EQ(h.non_colour_of(out), h.non_colour_of(in)) << format << " " << w << "x" << hgt;
      const std::vector<uint8_t> rgb = h.rgb_of(out);
      if (reference.empty()) {
        reference = rgb;
        EXPECT_NE(rgb, h.rgb_of(in)) << w << "x" << hgt;
      }
      EXPECT_EQ(rgb, reference) << format << " " << w << "x" << hgt;
      EXPECT_EQ(h.error(), "") << format;
    }
  }
}

// Night tints towards blue (red loses the most): on a gray frame the output's
// blue must be brighter than its red in every format, which a red/blue mix-up
// of the byte order would turn around.
TEST(EcottaCorrupt, RedAndBlueKeepTheirMeaningInEveryFormat) {
  for (const char* format : kFormats) {
    Harness h("schedule=\"night@5:1\"", format, 64, 48);
    GstBuffer* in = Harness::make_frame(h.info);
    GstMapInfo map;
    gst_buffer_map(in, &map, GST_MAP_WRITE);
    std::fill(map.data, map.data + map.size, uint8_t{200});
    gst_buffer_unmap(in, &map);
    GST_BUFFER_PTS(in) = 0;
    GstBuffer* out = gst_harness_push_and_pull(h.h, in);
    ASSERT_NE(out, nullptr);
    const std::vector<uint8_t> rgb = h.rgb_of(Harness::bytes_of(out));
    gst_buffer_unref(out);
    double red = 0, blue = 0;
    for (size_t i = 0; i < rgb.size(); i += 3) {
      red += rgb[i];
      blue += rgb[i + 2];
    }
    const double pixels = static_cast<double>(rgb.size() / 3);
    EXPECT_GT(blue / pixels, red / pixels + 1) << format << ": mean blue " << blue / pixels << ", red " << red / pixels;
  }
}

TEST(EcottaCorrupt, HonoursTheStrideOfAVideoMeta) {
  // The same picture with the default stride and with a wider one declared
  // in a GstVideoMeta (as a camera or decoder may hand it over).
  const std::vector<uint8_t> reference = [] {
    Harness packed("schedule=\"snow@3:1\" seed=9", "BGRx", 21, 13);
    return packed.rgb_of(packed.push(0));
  }();
  Harness h("schedule=\"snow@3:1\" seed=9", "BGRx", 21, 13);
  const int width = 21, height = 13, stride = 21 * 4 + 20;
  GstBuffer* buf = gst_buffer_new_allocate(nullptr, static_cast<gsize>(stride * height), nullptr);
  GstBuffer* packed = Harness::make_frame(h.info);
  GstMapInfo src, dst;
  gst_buffer_map(packed, &src, GST_MAP_READ);
  gst_buffer_map(buf, &dst, GST_MAP_WRITE);
  std::fill(dst.data, dst.data + dst.size, uint8_t{0x5C});
  for (int y = 0; y < height; ++y)
    std::copy_n(src.data + y * GST_VIDEO_INFO_PLANE_STRIDE(&h.info, 0), width * 4, dst.data + y * stride);
  gst_buffer_unmap(buf, &dst);
  gst_buffer_unmap(packed, &src);
  gst_buffer_unref(packed);
  gsize offsets[GST_VIDEO_MAX_PLANES] = {0};
  gint strides[GST_VIDEO_MAX_PLANES] = {stride};
  gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_FORMAT_BGRx, width, height, 1, offsets,
                                 strides);
  GST_BUFFER_PTS(buf) = 0;
  GstBuffer* out = gst_harness_push_and_pull(h.h, buf);
  ASSERT_NE(out, nullptr);
  GstMapInfo map;
  gst_buffer_map(out, &map, GST_MAP_READ);
  std::vector<uint8_t> rgb;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const uint8_t* px = map.data + y * stride + x * 4;
      rgb.insert(rgb.end(), {px[2], px[1], px[0]});
      EXPECT_EQ(px[3], static_cast<uint8_t>(x * 3 + y * 5)) << x << "," << y;  // the x byte
    }
    for (int i = width * 4; i < stride; ++i) EXPECT_EQ(map.data[y * stride + i], 0x5C) << "row " << y;
  }
  gst_buffer_unmap(out, &map);
  gst_buffer_unref(out);
  EXPECT_EQ(rgb, reference);
}

TEST(EcottaCorrupt, KeepsTimestampsFlagsAndOrder) {
  Harness h("schedule=\"motion_blur@2:1\"", "BGR", 24, 16);
  const GstClockTime times[] = {3 * GST_SECOND, 3 * GST_SECOND + 33 * GST_MSECOND, 3 * GST_SECOND + 66 * GST_MSECOND};
  for (int i = 0; i < 3; ++i) {
    GstBuffer* in = Harness::make_frame(h.info);
    GST_BUFFER_PTS(in) = times[i];
    GST_BUFFER_DTS(in) = times[i];
    GST_BUFFER_DURATION(in) = 33 * GST_MSECOND;
    GST_BUFFER_OFFSET(in) = static_cast<guint64>(100 + i);
    if (i == 1) GST_BUFFER_FLAG_SET(in, GST_BUFFER_FLAG_DISCONT);
    ASSERT_EQ(gst_harness_push(h.h, in), GST_FLOW_OK);
  }
  for (int i = 0; i < 3; ++i) {
    GstBuffer* out = gst_harness_pull(h.h);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(GST_BUFFER_PTS(out), times[i]);
    EXPECT_EQ(GST_BUFFER_DTS(out), times[i]);
    EXPECT_EQ(GST_BUFFER_DURATION(out), 33 * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_OFFSET(out), static_cast<guint64>(100 + i));
    EXPECT_EQ(GST_BUFFER_FLAG_IS_SET(out, GST_BUFFER_FLAG_DISCONT), i == 1);
    gst_buffer_unref(out);
  }
}

TEST(EcottaCorrupt, BuffersWithoutPtsCountFramesAtTheCapsFramerate) {
  Harness h("schedule=\"clean:0.2,brightness@4:0.2\"", "RGB", 8, 8, 10);
  for (int i = 0; i < 4; ++i) h.push(GST_CLOCK_TIME_NONE);
  const std::vector<std::string> seen = h.conditions();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].rfind("brightness@4 ", 0), 0u) << seen[1];
}

TEST(EcottaCorrupt, RefusesABadScheduleNamingTheEntry) {
  init_gstreamer();
  const std::string error =
      run_pipeline("videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=32,height=24 ! "
                   "ecottacorrupt schedule=\"clean:1, mist@2:3\" ! fakesink");
  EXPECT_NE(error.find("schedule"), std::string::npos) << error;
  EXPECT_NE(error.find("'mist@2:3'"), std::string::npos) << error;
  EXPECT_NE(error.find("gaussian_noise"), std::string::npos) << error;  // the known names
}

TEST(EcottaCorrupt, ABadScheduleSetWhilePlayingStopsTheStream) {
  Harness h("schedule=\"clean:1\"", "RGB", 8, 8);
  h.push(0);
  g_object_set(h.element, "schedule", "fog@9:1", nullptr);
  gchar* kept = nullptr;
  g_object_get(h.element, "schedule", &kept, nullptr);
  EXPECT_STREQ(kept, "fog@9:1");
  g_free(kept);
  EXPECT_EQ(gst_harness_push(h.h, Harness::make_frame(h.info)), GST_FLOW_ERROR);
  const std::string error = h.error();
  EXPECT_NE(error.find("'fog@9:1'"), std::string::npos) << error;
  EXPECT_NE(error.find("1..5"), std::string::npos) << error;
}

TEST(EcottaCorrupt, AScheduleSetWhilePlayingTakesEffectAtTheNextFrame) {
  Harness h("schedule=\"clean:1\"", "RGB", 16, 16);
  const std::vector<uint8_t> in = h.input();
  EXPECT_EQ(h.push(frame_time(0)), in);
  g_object_set(h.element, "schedule", "pixelate@5:1", nullptr);
  EXPECT_NE(h.push(frame_time(1)), in);
  EXPECT_EQ(h.conditions(), (std::vector<std::string>{"clean@0 0", "pixelate@5 100"}));
}

TEST(EcottaCorrupt, RefusesCapsItCannotCorrupt) {
  init_gstreamer();
  GstHarness* h = gst_harness_new("ecottacorrupt");
  gst_harness_set_src_caps_str(h, "video/x-raw,format=I420,width=16,height=16,framerate=10/1");
  EXPECT_EQ(gst_harness_push(h, gst_buffer_new_allocate(nullptr, 16 * 16 * 3 / 2, nullptr)),
            GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown(h);
}

TEST(EcottaCorrupt, DefaultsAndReadOnlyCondition) {
  init_gstreamer();
  GstElement* e = gst_element_factory_make("ecottacorrupt", nullptr);
  ASSERT_NE(e, nullptr);
  gchar* schedule = nullptr;
  gchar* condition = nullptr;
  guint64 seed = 1;
  g_object_get(e, "schedule", &schedule, "seed", &seed, "condition", &condition, nullptr);
  EXPECT_STREQ(schedule, "clean:4,fog@1-5:6,night@5:4,snow@5:4");  // the same default as `ecotta stream`
  EXPECT_EQ(seed, 0u);
  EXPECT_STREQ(condition, "");
  g_free(schedule);
  g_free(condition);
  GParamSpec* pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "condition");
  ASSERT_NE(pspec, nullptr);
  EXPECT_FALSE(pspec->flags & G_PARAM_WRITABLE);
  gst_object_unref(e);
}

TEST(EcottaCorrupt, RunsInAPipelineToAnAviFile) {
  init_gstreamer();
  const std::string path = std::string(ECOTTA_BUILD_ROOT) + "/tests/gst/ecottacorrupt_pipeline.avi";
  const std::string error = run_pipeline(
      "videotestsrc num-buffers=30 ! video/x-raw,format=RGB,width=160,height=120,framerate=30/1 ! "
      "ecottacorrupt schedule=\"clean:0.3,fog@1-5:0.3,night@4:0.3\" ! videoconvert ! jpegenc ! avimux ! "
      "filesink location=" +
      path);
  EXPECT_EQ(error, "");
  GStatBuf st;
  ASSERT_EQ(g_stat(path.c_str(), &st), 0);
  EXPECT_GT(st.st_size, 30 * 500);
  g_unlink(path.c_str());
}
