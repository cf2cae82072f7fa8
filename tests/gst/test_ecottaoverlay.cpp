// ecottaoverlay: frames decorated by hand with EcottaMeta (the way the
// `ecotta` element attaches it) go through a GstHarness; the tests look at
// the pixels that come out.
#include <gst/check/gstharness.h>
#include <gst/video/video.h>

#include <chrono>
#include <utility>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ecotta-meta.h"
#include "gst_test_support.h"

namespace {

using ecotta::test_support::init_gstreamer;
using ecotta::test_support::run_pipeline;

// The documented palette (docs/elements/ecottaoverlay.md), classes 0..2.
struct Rgb {
  int r, g, b;
};
constexpr Rgb kPalette[] = {{0, 0, 0}, {230, 25, 75}, {60, 180, 75}};

class Overlay : public ::testing::Test {
 protected:
  void SetUp() override { init_gstreamer(); }
  void TearDown() override {
    if (h_) gst_harness_teardown(h_);
  }

  // A harness with `format` frames of width x height.
  void open(int width, int height, const char* format = "BGRx") {
    h_ = gst_harness_new("ecottaoverlay");
    const std::string caps = std::string("video/x-raw,format=") + format + ",width=" + std::to_string(width) +
                             ",height=" + std::to_string(height) + ",framerate=30/1";
    gst_harness_set_src_caps_str(h_, caps.c_str());
    format_ = gst_video_format_from_string(format);
    width_ = width;
    height_ = height;
  }
  template <typename T>
  void set(const char* property, T value) {
    g_object_set(h_->element, property, value, nullptr);
  }

  // A frame filled with `fill`; `stride` > width * 4 adds row padding,
  // described by a GstVideoMeta, and fills it with `pad_byte`.
  GstBuffer* frame(uint8_t fill = 0, int stride = 0, uint8_t pad_byte = 0xAB) const {
    const int row = width_ * 4;
    if (stride == 0) stride = row;
    GstBuffer* buf = gst_buffer_new_allocate(nullptr, static_cast<gsize>(stride) * height_, nullptr);
    GstMapInfo map;
    gst_buffer_map(buf, &map, GST_MAP_WRITE);
    for (int y = 0; y < height_; ++y) {
      std::memset(map.data + y * stride, fill, row);
      std::memset(map.data + y * stride + row, pad_byte, stride - row);
    }
    gst_buffer_unmap(buf, &map);
    if (stride != row) {
      gsize offset[GST_VIDEO_MAX_PLANES] = {0};
      gint strides[GST_VIDEO_MAX_PLANES] = {stride};
      gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE, format_, width_, height_, 1, offset, strides);
    }
    return buf;
  }

  static EcottaMeta* classify_meta(GstBuffer* buf, bool reused = false) {
    EcottaMeta* m = ecotta_buffer_add_meta(buf);
    static const gchar* labels[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat"};
    m->task = ECOTTA_TASK_CLASSIFY;
    ecotta_meta_set_labels(m, 5, labels);
    m->class_id = 4;
    ecotta_meta_set_label(m, "Coat");
    m->confidence = 0.87f;
    m->n_top = 3;
    m->top[0] = {4, 0.87f};
    m->top[1] = {2, 0.08f};
    m->top[2] = {0, 0.03f};
    m->reused = reused;
    fill_adaptation(m);
    return m;
  }

  // A map_w x map_h class map: left half class 1, right half class 2.
  static EcottaMeta* segment_meta(GstBuffer* buf, int vx, int vy, int vw, int vh, unsigned map_w = 64,
                                  unsigned map_h = 48) {
    EcottaMeta* m = ecotta_buffer_add_meta(buf);
    static const gchar* labels[] = {"background", "T-shirt/top", "Trouser"};
    m->task = ECOTTA_TASK_SEGMENT;
    ecotta_meta_set_labels(m, 3, labels);
    std::vector<guint8> map(static_cast<std::size_t>(map_w) * map_h);
    for (unsigned y = 0; y < map_h; ++y)
      for (unsigned x = 0; x < map_w; ++x) map[y * map_w + x] = x < map_w / 2 ? 1 : 2;
    ecotta_meta_set_class_map(m, map_w, map_h, map.data());
    const gfloat share[] = {0.0f, 0.5f, 0.5f};
    ecotta_meta_set_class_share(m, share);
    m->class_id = 1;
    ecotta_meta_set_label(m, "T-shirt/top");
    m->confidence = 0.5f;
    m->view_x = vx, m->view_y = vy, m->view_width = vw, m->view_height = vh;
    fill_adaptation(m);
    return m;
  }

  static void fill_adaptation(EcottaMeta* m) {
    ecotta_meta_set_method(m, "ecotta");
    m->adapting = TRUE;
    m->adapt_steps = 1234;
    m->snapshot = 7;
    m->entropy = 0.3f;
    m->mean_entropy = 0.35f;
    m->peak_adapt_bytes = 12 * 1024 * 1024;
    m->memory_cap = 64 * 1024 * 1024;
  }

  // Pushes `in` and returns what came out (the test owns it).
  GstBuffer* run(GstBuffer* in) {
    EXPECT_EQ(gst_harness_push(h_, in), GST_FLOW_OK);
    GstBuffer* out = gst_harness_try_pull(h_);
    EXPECT_NE(out, nullptr);
    return out;
  }

  // A copy of the frame's rows (through its GstVideoMeta if any).
  struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> bytes;  // width * 4 per row
    std::vector<uint8_t> at(int x, int y) const {
      const uint8_t* p = bytes.data() + (static_cast<std::size_t>(y) * width + x) * 4;
      return {p, p + 4};
    }
    // Pixels in [x0, x1) x [y0, y1) with any byte other than `fill`.
    int changed(int x0, int y0, int x1, int y1, uint8_t fill = 0) const {
      int n = 0;
      for (int y = y0; y < y1; ++y)
        for (int x = x0; x < x1; ++x) {
          const uint8_t* p = bytes.data() + (static_cast<std::size_t>(y) * width + x) * 4;
          n += p[0] != fill || p[1] != fill || p[2] != fill || p[3] != fill;
        }
      return n;
    }
    // The lowest row with a pixel in [x0, x1) other than black, -1 if none.
    int lowest_drawn_row(int x0, int x1) const {
      for (int y = height - 1; y >= 0; --y)
        if (changed(x0, y, x1, y + 1) > 0) return y;
      return -1;
    }
  };
  Image image(GstBuffer* buf) const {
    GstVideoInfo info;
    gst_video_info_set_format(&info, format_, width_, height_);
    GstVideoFrame f;
    Image img;
    img.width = width_, img.height = height_;
    EXPECT_TRUE(gst_video_frame_map(&f, &info, buf, GST_MAP_READ));
    for (int y = 0; y < height_; ++y) {
      const auto* row = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&f, 0)) +
                        static_cast<std::size_t>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&f, 0);
      img.bytes.insert(img.bytes.end(), row, row + width_ * 4);
    }
    gst_video_frame_unmap(&f);
    return img;
  }
  // Pushes `in` and returns a copy of what came out.
  Image run_image(GstBuffer* in) {
    GstBuffer* out = run(in);
    if (!out) return {};
    Image img = image(out);
    gst_buffer_unref(out);
    return img;
  }

  GstHarness* h_ = nullptr;
  GstVideoFormat format_ = GST_VIDEO_FORMAT_BGRx;
  int width_ = 0, height_ = 0;
};

// BGRx byte order: B, G, R, x.
void expect_bgr(const std::vector<uint8_t>& p, int r, int g, int b, int tolerance, const char* where) {
  EXPECT_NEAR(p[2], r, tolerance) << where << " red";
  EXPECT_NEAR(p[1], g, tolerance) << where << " green";
  EXPECT_NEAR(p[0], b, tolerance) << where << " blue";
}

int blended(int frame, int palette, double alpha) { return static_cast<int>(frame * (1 - alpha) + palette * alpha + 0.5); }

TEST_F(Overlay, ElementDescribesItself) {
  GstElement* e = gst_element_factory_make("ecottaoverlay", nullptr);
  ASSERT_NE(e, nullptr) << "ecottaoverlay not found: is GST_PLUGIN_PATH set to build/gst-plugin?";
  GstElementFactory* f = gst_element_get_factory(e);
  EXPECT_STREQ(gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_AUTHOR), "ecotta");
  EXPECT_GT(std::strlen(gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_DESCRIPTION)), 40u);
  gdouble alpha = 0;
  guint top_k = 0;
  gboolean show_adaptation = FALSE;
  gchar* font = nullptr;
  g_object_get(e, "alpha", &alpha, "show-top-k", &top_k, "show-adaptation", &show_adaptation, "font-desc", &font,
               nullptr);
  EXPECT_DOUBLE_EQ(alpha, 0.45);
  EXPECT_EQ(top_k, 3u);
  EXPECT_TRUE(show_adaptation);
  EXPECT_STREQ(font, "Sans Bold 12");
  g_free(font);
  guint n = 0;
  GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(e), &n);
  for (guint i = 0; i < n; ++i) EXPECT_GT(std::strlen(g_param_spec_get_blurb(specs[i])), 10u) << specs[i]->name;
  g_free(specs);
  gst_object_unref(e);
}

TEST_F(Overlay, FrameWithoutMetaIsBitIdenticalAndNotCopied) {
  open(64, 48);
  GstBuffer* in = frame(0);
  GstMapInfo map;
  gst_buffer_map(in, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<uint8_t>(i * 37 + 11);
  std::vector<uint8_t> before(map.data, map.data + map.size);
  gst_buffer_unmap(in, &map);
  gst_buffer_ref(in);  // read-only for the element: a copy would show as another buffer
  GstBuffer* out = run(in);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(out, in);
  gst_buffer_map(out, &map, GST_MAP_READ);
  EXPECT_EQ(std::vector<uint8_t>(map.data, map.data + map.size), before);
  gst_buffer_unmap(out, &map);
  gst_buffer_unref(out);
  gst_buffer_unref(in);
}

TEST_F(Overlay, ClassificationDrawsLabelBoxAndLeavesTheRestAlone) {
  open(640, 480);
  set("show-adaptation", FALSE);
  GstBuffer* in = frame(0);
  classify_meta(in);
  const Image out = run_image(in);
  ASSERT_EQ(out.width, 640);
  EXPECT_GT(out.changed(8, 8, 160, 40), 1000) << "label box not drawn in the top-left corner";
  EXPECT_EQ(out.changed(0, 240, 640, 480), 0) << "pixels drawn in the bottom half";
  EXPECT_EQ(out.changed(420, 0, 640, 240), 0) << "pixels drawn on the right with show-adaptation=false";
  EXPECT_EQ(out.changed(0, 0, 640, 8), 0) << "the box does not keep its margin";
}

TEST_F(Overlay, TopKBarsLengthenTheBox) {
  open(640, 480);
  set("show-adaptation", FALSE);
  int lowest[2] = {-1, -1};
  for (guint k : {0u, 3u}) {
    set("show-top-k", k);
    GstBuffer* in = frame(0);
    classify_meta(in);
    lowest[k ? 1 : 0] = run_image(in).lowest_drawn_row(0, 320);
  }
  EXPECT_GT(lowest[0], 8);
  EXPECT_GT(lowest[1], lowest[0] + 3 * 12) << "three bar rows should add at least 3 text lines";
}

TEST_F(Overlay, ReusedResultIsMarked) {
  open(640, 480);
  set("show-adaptation", FALSE);
  int amber[2] = {0, 0};
  for (int reused : {0, 1}) {
    GstBuffer* in = frame(0);
    classify_meta(in, reused);
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 640);
    for (int y = 8; y < 60; ++y)
      for (int x = 8; x < 400; ++x) {
        const auto p = out.at(x, y);
        amber[reused] += p[2] > 200 && p[1] > 140 && p[0] < 60;
      }
  }
  EXPECT_EQ(amber[0], 0);
  EXPECT_GT(amber[1], 50) << "no amber 'reused' tag next to the label";
}

TEST_F(Overlay, AdaptationPanelDrawnTopRightWhenEnabled) {
  open(640, 480);
  for (gboolean show : {1, 0}) {
    set("show-adaptation", show);
    GstBuffer* in = frame(0);
    classify_meta(in);
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 640);
    if (show)
      EXPECT_GT(out.changed(500, 8, 632, 60), 1000);
    else
      EXPECT_EQ(out.changed(500, 8, 632, 60), 0);
    EXPECT_EQ(out.changed(0, 300, 640, 480), 0);
  }
}

TEST_F(Overlay, AdaptationPanelMovesDownOnANarrowFrame) {
  open(320, 240);
  GstBuffer* in = frame(0);
  classify_meta(in);
  const Image out = run_image(in);
  ASSERT_EQ(out.width, 320);
  EXPECT_GT(out.changed(200, 200, 312, 232), 1000) << "adaptation panel not in the bottom-right corner";
  EXPECT_EQ(out.changed(280, 0, 320, 60), 0) << "top-right corner not cleared for the label box";
}

TEST_F(Overlay, AdaptationPanelFollowsTheMeta) {
  open(640, 480);
  std::vector<std::vector<uint8_t>> panels;
  for (int i = 0; i < 3; ++i) {
    GstBuffer* in = frame(0);
    EcottaMeta* m = classify_meta(in);
    m->frame = i;
    m->mean_entropy = 0.2f + 0.3f * i;
    if (i == 2) m->memory_cap = 0;  // "no cap", and no memory bar
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 640);
    std::vector<uint8_t> panel;
    for (int y = 8; y < 200; ++y)
      for (int x = 440; x < 640; ++x) {
        const auto p = out.at(x, y);
        panel.insert(panel.end(), p.begin(), p.end());
      }
    panels.push_back(panel);
  }
  EXPECT_NE(panels[0], panels[1]);
  EXPECT_NE(panels[1], panels[2]);
}

TEST_F(Overlay, ThousandsOfChangingNumbersDrawTheSameAsAFreshOverlay) {
  // Every frame brings new step counts, memory and confidence: new text.
  // The renderer's layout cache fills and is emptied many times over; the
  // last frame must still come out as a fresh overlay draws it (emptying the
  // cache in the middle of a frame once freed layouts still being drawn).
  open(320, 240);
  auto meta_for = [](GstBuffer* in, int i) {
    EcottaMeta* m = classify_meta(in);
    m->frame = static_cast<guint64>(i);
    m->adapt_steps = static_cast<guint64>(i);
    m->peak_adapt_bytes = 1000000 + 7919LL * i;
    m->confidence = static_cast<float>(i % 97) / 97.0f;
    m->mean_entropy = 0.5f;
  };
  Image last;
  for (int i = 0; i < 2000; ++i) {
    GstBuffer* in = frame(0);
    meta_for(in, i);
    last = run_image(in);
    ASSERT_EQ(last.width, 320) << "frame " << i;
  }
  gst_harness_teardown(h_);
  h_ = nullptr;
  open(320, 240);
  for (int i = 1700; i < 2000; ++i) {  // the same entropy history (longer than the trend window)
    GstBuffer* in = frame(0);
    meta_for(in, i);
    const Image fresh = run_image(in);
    if (i == 1999) EXPECT_EQ(fresh.bytes, last.bytes);
  }
}

TEST_F(Overlay, SegmentationBlendsPaletteAtAlpha) {
  open(640, 480);
  set("show-adaptation", FALSE);
  const uint8_t grey = 100;
  GstBuffer* in = frame(grey);
  segment_meta(in, 0, 0, 640, 480);
  const Image out = run_image(in);
  ASSERT_EQ(out.width, 640);
  const auto left = out.at(160, 360), right = out.at(480, 360);
  expect_bgr(left, blended(grey, kPalette[1].r, 0.45), blended(grey, kPalette[1].g, 0.45),
             blended(grey, kPalette[1].b, 0.45), 2, "left half");
  expect_bgr(right, blended(grey, kPalette[2].r, 0.45), blended(grey, kPalette[2].g, 0.45),
             blended(grey, kPalette[2].b, 0.45), 2, "right half");
  EXPECT_NE(left, right);
  // The boundary follows the map: column 319 is still class 1, 320 class 2.
  EXPECT_EQ(out.at(319, 400), left);
  EXPECT_EQ(out.at(320, 400), right);
}

TEST_F(Overlay, LegendListsTheClassesPresent) {
  open(640, 480);
  set("show-adaptation", FALSE);
  set("alpha", 0.0);  // legend only
  int swatches[2] = {0, 0};
  for (int both : {0, 1}) {
    GstBuffer* in = frame(0);
    EcottaMeta* m = segment_meta(in, 0, 0, 640, 480);
    const gfloat share[] = {0.0f, 1.0f, 0.0f};
    if (!both) ecotta_meta_set_class_share(m, share);
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 640);
    for (int y = 8; y < 200; ++y)
      for (int x = 8; x < 300; ++x) swatches[both] += out.at(x, y) == std::vector<uint8_t>{75, 180, 60, 0};
  }
  EXPECT_EQ(swatches[0], 0) << "class 2 listed with a share of 0";
  EXPECT_GT(swatches[1], 50) << "no class-2 colour swatch in the legend";
}

TEST_F(Overlay, AlphaIsLiveAndZeroMeansNoMap) {
  open(640, 480);
  set("show-adaptation", FALSE);
  for (double alpha : {1.0, 0.0}) {
    set("alpha", alpha);
    GstBuffer* in = frame(0);
    segment_meta(in, 0, 0, 640, 480);
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 640);
    if (alpha > 0)
      expect_bgr(out.at(160, 360), kPalette[1].r, kPalette[1].g, kPalette[1].b, 0, "alpha 1");
    else
      EXPECT_EQ(out.changed(0, 240, 640, 480), 0) << "alpha 0 still drew the map";
  }
}

TEST_F(Overlay, ViewReachingPastTheFrameIsClipped) {
  open(640, 480);
  set("show-adaptation", FALSE);
  set("alpha", 1.0);
  {
    // Letterbox-like: the view is larger than the frame on every side;
    // the map's left half ends at view x 640, frame x 320.
    GstBuffer* in = frame(0);
    segment_meta(in, -320, -100, 1280, 680);
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 640);
    expect_bgr(out.at(100, 400), kPalette[1].r, kPalette[1].g, kPalette[1].b, 0, "left of 320");
    expect_bgr(out.at(319, 400), kPalette[1].r, kPalette[1].g, kPalette[1].b, 0, "x 319");
    expect_bgr(out.at(320, 400), kPalette[2].r, kPalette[2].g, kPalette[2].b, 0, "x 320");
    expect_bgr(out.at(639, 479), kPalette[2].r, kPalette[2].g, kPalette[2].b, 0, "bottom-right corner");
  }
  {
    // The view starts inside the frame and runs past its right and bottom edges.
    GstBuffer* in = frame(0);
    segment_meta(in, 320, 240, 640, 480);
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 640);
    EXPECT_EQ(out.changed(0, 240, 320, 480), 0) << "drawn left of the view";
    EXPECT_EQ(out.changed(320, 200, 640, 240), 0) << "drawn above the view";
    EXPECT_EQ(out.changed(320, 240, 640, 480), 320 * 240);
    expect_bgr(out.at(639, 479), kPalette[1].r, kPalette[1].g, kPalette[1].b, 0, "only class 1 is in the frame");
  }
  {
    // Entirely outside: nothing of the map.
    GstBuffer* in = frame(0);
    segment_meta(in, 700, 500, 100, 100);
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 640);
    EXPECT_EQ(out.changed(0, 240, 640, 480), 0);
  }
}

TEST_F(Overlay, TinyAndOddFrames) {
  for (auto [w, hgt] : {std::pair{1, 1}, {2, 2}, {33, 17}, {7, 301}}) {
    open(w, hgt);
    set("alpha", 1.0);
    for (int task = 0; task < 2; ++task) {
      GstBuffer* in = frame(0);
      const unsigned map_w = 3;
      if (task)
        segment_meta(in, 0, 0, w, hgt, map_w, 3);
      else
        classify_meta(in);
      GstBuffer* out = run(in);
      ASSERT_NE(out, nullptr) << w << "x" << hgt;
      EXPECT_EQ(gst_buffer_get_size(out), static_cast<gsize>(w) * hgt * 4);
      if (task) {  // (0, 0) lies outside every panel: only the map is there, nearest cell at pixel centres
        const unsigned cell = map_w / (2 * w);
        const Rgb& c = kPalette[cell < map_w / 2 ? 1 : 2];
        expect_bgr(image(out).at(0, 0), c.r, c.g, c.b, 0, "map at (0, 0)");
      }
      gst_buffer_unref(out);
    }
    gst_harness_teardown(h_);
    h_ = nullptr;
  }
}

TEST_F(Overlay, PaddedStrideIsHonouredAndPaddingUntouched) {
  open(33, 40);
  set("alpha", 1.0);  // both panels stay on: clipped at the frame's left and right edges
  const int stride = 33 * 4 + 12;
  GstBuffer* in = frame(0, stride, 0xAB);
  segment_meta(in, 0, 0, 33, 40, 2, 1);  // one class-1 column, one class-2 column
  GstBuffer* out = run(in);
  ASSERT_NE(out, nullptr);
  // Above the panels (y < 8) only the map is drawn: x 0..15 class 1, 16..32 class 2.
  const Image img = image(out);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 33; ++x) {
      const Rgb& c = kPalette[x < 16 ? 1 : 2];
      expect_bgr(img.at(x, y), c.r, c.g, c.b, 0, ("pixel " + std::to_string(x) + "," + std::to_string(y)).c_str());
    }
  EXPECT_GT(img.changed(8, 8, 33, 40), 0);
  GstMapInfo map;
  gst_buffer_map(out, &map, GST_MAP_READ);
  ASSERT_EQ(map.size, static_cast<gsize>(stride) * 40);
  int touched = 0;
  for (int y = 0; y < 40; ++y)
    for (int i = 33 * 4; i < stride; ++i) touched += map.data[y * stride + i] != 0xAB;
  gst_buffer_unmap(out, &map);
  EXPECT_EQ(touched, 0) << "row padding was written";
  gst_buffer_unref(out);
}

TEST_F(Overlay, OtherByteOrdersPutColoursInTheRightChannels) {
  struct Case {
    const char* format;
    int r, g, b, a;  // byte offsets, a = -1: padding
  };
  for (const Case& c : {Case{"BGRA", 2, 1, 0, 3}, Case{"RGBx", 0, 1, 2, -1}, Case{"RGBA", 0, 1, 2, 3},
                        Case{"xRGB", 1, 2, 3, -1}, Case{"ARGB", 1, 2, 3, 0}, Case{"xBGR", 3, 2, 1, -1},
                        Case{"ABGR", 3, 2, 1, 0}}) {
    open(64, 48, c.format);
    set("alpha", 1.0);
    set("show-adaptation", FALSE);
    GstBuffer* in = frame(0);
    if (c.a >= 0) {  // opaque frame
      GstMapInfo map;
      gst_buffer_map(in, &map, GST_MAP_WRITE);
      for (gsize i = c.a; i < map.size; i += 4) map.data[i] = 255;
      gst_buffer_unmap(in, &map);
    }
    segment_meta(in, 0, 0, 64, 48);
    const Image out = run_image(in);
    ASSERT_EQ(out.width, 64) << c.format;
    const auto p = out.at(2, 40);
    EXPECT_EQ(p[c.r], kPalette[1].r) << c.format;
    EXPECT_EQ(p[c.g], kPalette[1].g) << c.format;
    EXPECT_EQ(p[c.b], kPalette[1].b) << c.format;
    int white = 0, alpha_changed = 0;
    for (int y = 0; y < 48; ++y)
      for (int x = 0; x < 64; ++x) {
        const auto q = out.at(x, y);
        white += q[c.r] > 200 && q[c.g] > 200 && q[c.b] > 200;
        if (c.a >= 0) alpha_changed += q[c.a] != 255;
      }
    EXPECT_GT(white, 20) << c.format << ": the legend's white text is missing";
    EXPECT_EQ(alpha_changed, 0) << c.format << ": an opaque frame became translucent";
    gst_harness_teardown(h_);
    h_ = nullptr;
  }
}

TEST_F(Overlay, TranslucentFrameGetsTheOverlaysAlpha) {
  open(64, 48, "BGRA");
  set("show-adaptation", FALSE);
  GstBuffer* in = frame(0);  // fully transparent black
  classify_meta(in);
  const Image out = run_image(in);
  ASSERT_EQ(out.width, 64);
  EXPECT_EQ(out.at(2, 2)[3], 0) << "outside the box the frame stays transparent";
  EXPECT_GT(out.at(12, 12)[3], 150) << "the box's own opacity is written into the frame";
}

TEST_F(Overlay, RefusesPlanarFormats) {
  h_ = gst_harness_new("ecottaoverlay");
  gst_harness_set_src_caps_str(h_, "video/x-raw,format=I420,width=64,height=48,framerate=30/1");
  GstBuffer* in = gst_buffer_new_allocate(nullptr, 64 * 48 * 3 / 2, nullptr);
  EXPECT_EQ(gst_harness_push(h_, in), GST_FLOW_NOT_NEGOTIATED);
}

TEST_F(Overlay, TimestampsAndOrderUntouched) {
  open(64, 48);
  for (int i = 0; i < 6; ++i) {
    GstBuffer* in = frame(0);
    GST_BUFFER_PTS(in) = i * 33 * GST_MSECOND;
    GST_BUFFER_DTS(in) = i * 33 * GST_MSECOND;
    GST_BUFFER_DURATION(in) = 33 * GST_MSECOND;
    GST_BUFFER_OFFSET(in) = i;
    if (i % 2) classify_meta(in)->frame = i;  // every other frame decorated
    ASSERT_EQ(gst_harness_push(h_, in), GST_FLOW_OK);
  }
  for (int i = 0; i < 6; ++i) {
    GstBuffer* out = gst_harness_try_pull(h_);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(GST_BUFFER_PTS(out), i * 33 * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_DTS(out), i * 33 * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_DURATION(out), 33 * GST_MSECOND);
    EXPECT_EQ(GST_BUFFER_OFFSET(out), static_cast<guint64>(i));
    const EcottaMeta* m = ecotta_buffer_get_meta(out);
    EXPECT_EQ(m != nullptr, i % 2 == 1);
    if (m) {
      EXPECT_EQ(m->frame, static_cast<guint64>(i));
    }
    gst_buffer_unref(out);
  }
}

TEST_F(Overlay, FontDescriptionChangesTheText) {
  open(640, 480);
  set("show-adaptation", FALSE);
  set("show-top-k", 0u);
  int lowest[2] = {-1, -1};
  int i = 0;
  for (const char* font : {"Sans Bold 8", "Sans Bold 20"}) {
    set("font-desc", font);
    GstBuffer* in = frame(0);
    classify_meta(in);
    lowest[i++] = run_image(in).lowest_drawn_row(0, 640);
  }
  EXPECT_GT(lowest[1], lowest[0] + 10) << "a 20 pt label box should be taller than an 8 pt one";
}

TEST_F(Overlay, RunsInAPipelineWithoutMeta) {
  EXPECT_EQ(run_pipeline("videotestsrc num-buffers=10 ! video/x-raw,format=BGRx,width=320,height=240 ! "
                         "ecottaoverlay ! fakesink"),
            "");
}

// Drawing cost at 640x480 with everything on and the text changing every
// frame (steps, confidence, entropy): only the push, which draws, is timed.
TEST_F(Overlay, DrawingCostAt640x480) {
  open(640, 480);
  for (int task = 0; task < 2; ++task) {
    const int frames = 300;
    double total_ms = 0;
    for (int i = 0; i < frames + 5; ++i) {
      GstBuffer* in = frame(60);
      EcottaMeta* m = task ? segment_meta(in, 0, 0, 640, 480, 160, 120) : classify_meta(in);
      m->frame = i;
      m->adapt_steps = i;
      m->mean_entropy = 0.3f + 0.1f * static_cast<float>(i % 7) / 7;
      m->confidence = 0.5f + 0.4f * static_cast<float>(i % 11) / 11;
      const auto t0 = std::chrono::steady_clock::now();
      ASSERT_EQ(gst_harness_push(h_, in), GST_FLOW_OK);
      const auto t1 = std::chrono::steady_clock::now();
      if (i >= 5) total_ms += std::chrono::duration<double, std::milli>(t1 - t0).count();  // fonts load first
      gst_buffer_unref(gst_harness_pull(h_));
    }
    const double ms = total_ms / frames;
    std::printf("[ cost     ] ecottaoverlay %s 640x480: %.3f ms/frame\n", task ? "segmentation" : "classification",
                ms);
    EXPECT_LT(ms, 33.0) << "slower than real time at 30 fps";
  }
}

}  // namespace
