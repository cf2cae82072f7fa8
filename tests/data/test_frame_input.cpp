#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "model/input_geometry.h"
#include "stream/frame_input.h"

using ecotta::model::Geometry;
using ecotta::model::model_view;
using ecotta::model::parse_geometry;
using ecotta::model::ViewRect;
using ecotta::stream::FrameView;
using ecotta::stream::frame_to_model_rgb;
using ecotta::stream::frame_to_rgb;
using ecotta::stream::parse_pixel_format;
using ecotta::stream::pixel_format_names;
using ecotta::stream::PixelFormat;
using ecotta::stream::YuvMatrix;

namespace {

const Geometry kGeometries[] = {Geometry::Squash, Geometry::Crop, Geometry::Letterbox};

// A frame's bytes together with the view over them.
struct Frame {
  std::vector<std::vector<uint8_t>> planes;
  FrameView view;
};

// Bytes that must never reach the output: row padding and unused x/alpha bytes.
constexpr uint8_t kGarbage = 0xA7;

// Packs an RGB picture into a packed format, each row padded by `pad` bytes.
Frame pack(const cv::Mat& rgb, PixelFormat format, int pad) {
  struct Layout {
    int channels, r, g, b;
  };
  Layout l{};
  switch (format) {
    case PixelFormat::RGB: l = {3, 0, 1, 2}; break;
    case PixelFormat::BGR: l = {3, 2, 1, 0}; break;
    case PixelFormat::RGBx: case PixelFormat::RGBA: l = {4, 0, 1, 2}; break;
    case PixelFormat::BGRx: case PixelFormat::BGRA: l = {4, 2, 1, 0}; break;
    case PixelFormat::xRGB: case PixelFormat::ARGB: l = {4, 1, 2, 3}; break;
    case PixelFormat::xBGR: case PixelFormat::ABGR: l = {4, 3, 2, 1}; break;
    default: throw std::logic_error("pack: not a packed colour format");
  }
  Frame f;
  const int stride = rgb.cols * l.channels + pad;
  f.planes.emplace_back(static_cast<size_t>(stride) * rgb.rows, kGarbage);
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x) {
      const cv::Vec3b p = rgb.at<cv::Vec3b>(y, x);
      uint8_t* px = f.planes[0].data() + static_cast<size_t>(y) * stride + x * l.channels;
      px[l.r] = p[0];
      px[l.g] = p[1];
      px[l.b] = p[2];
    }
  f.view.format = format;
  f.view.width = rgb.cols;
  f.view.height = rgb.rows;
  f.view.planes[0] = f.planes[0].data();
  f.view.strides[0] = stride;
  return f;
}

Frame pack_gray(const cv::Mat& gray, int pad) {
  Frame f;
  const int stride = gray.cols + pad;
  f.planes.emplace_back(static_cast<size_t>(stride) * gray.rows, kGarbage);
  for (int y = 0; y < gray.rows; ++y)
    std::copy(gray.ptr<uint8_t>(y), gray.ptr<uint8_t>(y) + gray.cols,
              f.planes[0].data() + static_cast<size_t>(y) * stride);
  f.view.format = PixelFormat::GRAY8;
  f.view.width = gray.cols;
  f.view.height = gray.rows;
  f.view.planes[0] = f.planes[0].data();
  f.view.strides[0] = stride;
  return f;
}

using PlaneFn = std::function<uint8_t(int x, int y)>;

// An I420 or NV12 frame with samples from y_at (luma coordinates) and u_at /
// v_at (chroma coordinates), every plane's rows padded by `pad` bytes.
Frame make_yuv(PixelFormat format, int width, int height, const PlaneFn& y_at, const PlaneFn& u_at,
               const PlaneFn& v_at, int pad) {
  const int cw = (width + 1) / 2, ch = (height + 1) / 2;
  Frame f;
  f.view.format = format;
  f.view.width = width;
  f.view.height = height;
  const int y_stride = width + pad;
  f.planes.emplace_back(static_cast<size_t>(y_stride) * height, kGarbage);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) f.planes[0][static_cast<size_t>(y) * y_stride + x] = y_at(x, y);
  f.view.strides[0] = y_stride;
  if (format == PixelFormat::I420) {
    const int c_stride = cw + pad;
    for (const PlaneFn* fn : {&u_at, &v_at}) {
      f.planes.emplace_back(static_cast<size_t>(c_stride) * ch, kGarbage);
      for (int y = 0; y < ch; ++y)
        for (int x = 0; x < cw; ++x) f.planes.back()[static_cast<size_t>(y) * c_stride + x] = (*fn)(x, y);
    }
    f.view.strides[1] = f.view.strides[2] = c_stride;
  } else {
    const int c_stride = 2 * cw + pad;
    f.planes.emplace_back(static_cast<size_t>(c_stride) * ch, kGarbage);
    for (int y = 0; y < ch; ++y)
      for (int x = 0; x < cw; ++x) {
        f.planes[1][static_cast<size_t>(y) * c_stride + 2 * x] = u_at(x, y);
        f.planes[1][static_cast<size_t>(y) * c_stride + 2 * x + 1] = v_at(x, y);
      }
    f.view.strides[1] = c_stride;
  }
  for (size_t i = 0; i < f.planes.size(); ++i) f.view.planes[i] = f.planes[i].data();
  return f;
}

Frame flat_yuv(PixelFormat format, int width, int height, uint8_t y, uint8_t u, uint8_t v, int pad = 5) {
  return make_yuv(
      format, width, height, [y](int, int) { return y; }, [u](int, int) { return u; }, [v](int, int) { return v; },
      pad);
}

// A picture with detail in every channel: ramps, a checkerboard and noise.
cv::Mat test_picture(int width, int height) {
  cv::Mat rgb(height, width, CV_8UC3);
  cv::RNG rng(1234);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(x * 255 / std::max(1, width - 1)),
                                          static_cast<uint8_t>(((x / 7 + y / 5) % 2) * 200 + 20),
                                          static_cast<uint8_t>(rng.uniform(0, 256)));
  return rgb;
}

cv::Mat solid(int width, int height, cv::Vec3b rgb) {
  return cv::Mat(height, width, CV_8UC3, cv::Scalar(rgb[0], rgb[1], rgb[2]));
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// The published 8-bit conversion matrices (ITU-R BT.601 / BT.709, as tabulated
// e.g. in Keith Jack, "Video Demystified"), written independently of the code under test.
cv::Vec3b expected_rgb(int y, int u, int v, YuvMatrix matrix, bool full_range) {
  const double cb = u - 128, cr = v - 128;
  double r, g, b;
  if (!full_range && matrix == YuvMatrix::Bt601) {
    const double l = 1.164 * (y - 16);
    r = l + 1.596 * cr, g = l - 0.392 * cb - 0.813 * cr, b = l + 2.017 * cb;
  } else if (!full_range) {
    const double l = 1.164 * (y - 16);
    r = l + 1.793 * cr, g = l - 0.213 * cb - 0.533 * cr, b = l + 2.112 * cb;
  } else if (matrix == YuvMatrix::Bt601) {
    r = y + 1.402 * cr, g = y - 0.344136 * cb - 0.714136 * cr, b = y + 1.772 * cb;
  } else {
    r = y + 1.5748 * cr, g = y - 0.1873 * cb - 0.4681 * cr, b = y + 1.8556 * cb;
  }
  return {cv::saturate_cast<uint8_t>(r), cv::saturate_cast<uint8_t>(g), cv::saturate_cast<uint8_t>(b)};
}

// Every pixel of `image` within `tolerance` of `colour`.
void expect_flat(const cv::Mat& image, cv::Vec3b colour, int tolerance, const std::string& what) {
  ASSERT_EQ(image.type(), CV_8UC3) << what;
  for (int y = 0; y < image.rows; ++y)
    for (int x = 0; x < image.cols; ++x)
      for (int c = 0; c < 3; ++c)
        ASSERT_NEAR(image.at<cv::Vec3b>(y, x)[c], colour[c], tolerance)
            << what << " at (" << x << "," << y << ") channel " << c;
}

template <typename F>
void expect_invalid(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    for (const auto& frag : fragments) EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << e.what();
  }
}

}  // namespace

// ---- formats -------------------------------------------------------------

TEST(FrameInput, FormatNamesRoundTripInEnumOrder) {
  const auto& names = pixel_format_names();
  ASSERT_EQ(names.size(), 13u);
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(parse_pixel_format(names[i])), i) << names[i];
    EXPECT_EQ(ecotta::stream::to_string(static_cast<PixelFormat>(i)), names[i]);
  }
  EXPECT_EQ(parse_pixel_format("BGRx"), PixelFormat::BGRx);
  EXPECT_EQ(parse_pixel_format("NV12"), PixelFormat::NV12);
}

TEST(FrameInput, UnknownFormatNameListsSupportedOnes) {
  expect_invalid([] { parse_pixel_format("YUY2"); }, {"YUY2", "RGB", "BGRx", "xBGR", "GRAY8", "I420", "NV12"});
  expect_invalid([] { parse_pixel_format("rgb"); }, {"'rgb'"});
}

TEST(FrameInput, RgbPathIsThePictureAndAreaResize) {
  const cv::Mat picture = test_picture(640, 480);
  const Frame f = pack(picture, PixelFormat::RGB, 9);
  EXPECT_TRUE(same(frame_to_rgb(f.view), picture));
  cv::Mat expected;
  cv::resize(picture, expected, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  EXPECT_TRUE(same(frame_to_model_rgb(f.view, 32, 32, Geometry::Squash), expected));
  cv::resize(picture, expected, cv::Size(1280, 960), 0, 0, cv::INTER_LINEAR);
  EXPECT_TRUE(same(frame_to_model_rgb(f.view, 1280, 960, Geometry::Squash), expected));
}

// Fractional downscales take whole-number halvings first (for speed): the
// result must still be the area average of the same region.
TEST(FrameInput, FractionalDownscaleIsAnAreaAverage) {
  cv::Mat picture(1080, 1920, CV_8UC3);
  for (int y = 0; y < picture.rows; ++y)
    for (int x = 0; x < picture.cols; ++x)
      picture.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uint8_t>(x * 255 / 1919), static_cast<uint8_t>(y * 255 / 1079),
                    cv::saturate_cast<uint8_t>(128 + 100 * std::sin(x / 50.0 + y / 70.0)));
  const Frame f = pack(picture, PixelFormat::RGBx, 0);
  for (cv::Size ms : {cv::Size(64, 64), cv::Size(100, 37)}) {
    cv::Mat expected;
    cv::resize(picture, expected, ms, 0, 0, cv::INTER_AREA);
    EXPECT_LE(cv::norm(frame_to_model_rgb(f.view, ms.width, ms.height, Geometry::Squash), expected, cv::NORM_INF), 2)
        << ms.width << "x" << ms.height;
  }
}

TEST(FrameInput, EveryPackedFormatMatchesTheRgbPath) {
  const PixelFormat packed[] = {PixelFormat::BGR,  PixelFormat::RGBx, PixelFormat::BGRx, PixelFormat::xRGB,
                                PixelFormat::xBGR, PixelFormat::RGBA, PixelFormat::BGRA, PixelFormat::ARGB,
                                PixelFormat::ABGR};
  const cv::Size frame_sizes[] = {{640, 480}, {33, 17}, {1, 1}, {17, 40}};
  const cv::Size model_sizes[] = {{32, 32}, {64, 64}, {48, 20}};
  for (cv::Size fs : frame_sizes) {
    const cv::Mat picture = test_picture(fs.width, fs.height);
    const Frame rgb = pack(picture, PixelFormat::RGB, 3);
    for (PixelFormat format : packed) {
      const Frame other = pack(picture, format, 11);
      const std::string what = std::string(ecotta::stream::to_string(format)) + " " + std::to_string(fs.width) + "x" +
                               std::to_string(fs.height);
      EXPECT_TRUE(same(frame_to_rgb(other.view), picture)) << what;
      for (cv::Size ms : model_sizes)
        for (Geometry g : kGeometries) {
          const cv::Mat out = frame_to_model_rgb(other.view, ms.width, ms.height, g);
          EXPECT_TRUE(out.isContinuous());
          EXPECT_TRUE(same(out, frame_to_model_rgb(rgb.view, ms.width, ms.height, g)))
              << what << " -> " << ms.width << "x" << ms.height << " " << ecotta::model::to_string(g);
        }
    }
  }
}

TEST(FrameInput, Gray8IsReplicatedIntoRgb) {
  cv::Mat picture;
  cv::extractChannel(test_picture(97, 61), picture, 2);
  const Frame gray = pack_gray(picture, 7);
  cv::Mat as_rgb;
  cv::merge(std::vector<cv::Mat>{picture, picture, picture}, as_rgb);
  const Frame rgb = pack(as_rgb, PixelFormat::RGB, 0);
  EXPECT_TRUE(same(frame_to_rgb(gray.view), as_rgb));
  for (Geometry g : kGeometries)
    EXPECT_TRUE(same(frame_to_model_rgb(gray.view, 32, 32, g), frame_to_model_rgb(rgb.view, 32, 32, g)))
        << ecotta::model::to_string(g);
}

// ---- YUV -----------------------------------------------------------------

TEST(FrameInput, FlatYuvColoursFollowTheStandardMatrices) {
  // Primaries, skin-like tones, greys and out-of-gamut extremes (clipping).
  const int samples[][3] = {{81, 90, 240}, {145, 54, 34}, {41, 240, 110}, {128, 128, 128}, {16, 128, 128},
                            {235, 128, 128}, {170, 100, 160}, {60, 180, 90}, {0, 255, 0}, {255, 0, 255}};
  for (PixelFormat format : {PixelFormat::I420, PixelFormat::NV12})
    for (YuvMatrix matrix : {YuvMatrix::Bt601, YuvMatrix::Bt709})
      for (bool full_range : {false, true})
        for (const auto& s : samples) {
          Frame f = flat_yuv(format, 33, 17, static_cast<uint8_t>(s[0]), static_cast<uint8_t>(s[1]),
                             static_cast<uint8_t>(s[2]));
          f.view.matrix = matrix;
          f.view.full_range = full_range;
          const cv::Vec3b want = expected_rgb(s[0], s[1], s[2], matrix, full_range);
          const std::string what = std::string(ecotta::stream::to_string(format)) +
                                   (matrix == YuvMatrix::Bt601 ? " BT.601" : " BT.709") +
                                   (full_range ? " full" : " studio") + " YUV(" + std::to_string(s[0]) + "," +
                                   std::to_string(s[1]) + "," + std::to_string(s[2]) + ")";
          expect_flat(frame_to_model_rgb(f.view, 32, 32, Geometry::Crop), want, 2, what);
          expect_flat(frame_to_rgb(f.view), want, 2, what + " whole frame");
        }
}

TEST(FrameInput, Nv12MatchesI420ForTheSamePicture) {
  const auto y_at = [](int x, int y) { return static_cast<uint8_t>(16 + (x * 3 + y * 5) % 220); };
  const auto u_at = [](int x, int y) { return static_cast<uint8_t>(60 + (x * 7 + y) % 130); };
  const auto v_at = [](int x, int y) { return static_cast<uint8_t>(200 - (x + y * 9) % 140); };
  const Frame i420 = make_yuv(PixelFormat::I420, 161, 83, y_at, u_at, v_at, 4);
  const Frame nv12 = make_yuv(PixelFormat::NV12, 161, 83, y_at, u_at, v_at, 6);
  EXPECT_TRUE(same(frame_to_rgb(i420.view), frame_to_rgb(nv12.view)));
  for (Geometry g : kGeometries)
    EXPECT_TRUE(same(frame_to_model_rgb(i420.view, 32, 32, g), frame_to_model_rgb(nv12.view, 32, 32, g)))
        << ecotta::model::to_string(g);
}

TEST(FrameInput, ChromaIsHalfResolutionAndAligned) {
  // Blue-ish chroma in the left half of the picture, red-ish in the right:
  // the output's left and right halves must carry those colours.
  const Frame f = make_yuv(
      PixelFormat::I420, 64, 32, [](int, int) { return uint8_t{128}; },
      [](int x, int) { return x < 16 ? uint8_t{200} : uint8_t{128}; },
      [](int x, int) { return x < 16 ? uint8_t{128} : uint8_t{200}; }, 2);
  const cv::Mat out = frame_to_model_rgb(f.view, 16, 8, Geometry::Squash);
  const cv::Vec3b left = expected_rgb(128, 200, 128, YuvMatrix::Bt601, false);
  const cv::Vec3b right = expected_rgb(128, 128, 200, YuvMatrix::Bt601, false);
  expect_flat(out(cv::Rect(0, 0, 8, 8)), left, 2, "left half");
  expect_flat(out(cv::Rect(8, 0, 8, 8)), right, 2, "right half");

  // Crop: chroma follows the luma crop. A 96x32 frame with coloured chroma
  // only in its side thirds crops to its neutral middle third.
  const Frame banded = make_yuv(
      PixelFormat::NV12, 96, 32, [](int, int) { return uint8_t{128}; },
      [](int x, int) { return x < 16 ? uint8_t{220} : uint8_t{128}; },
      [](int x, int) { return x >= 32 ? uint8_t{220} : uint8_t{128}; }, 2);
  const cv::Vec3b grey = expected_rgb(128, 128, 128, YuvMatrix::Bt601, false);
  expect_flat(frame_to_model_rgb(banded.view, 16, 16, Geometry::Crop), grey, 2, "crop of the middle third");
}

// ---- geometry ------------------------------------------------------------

TEST(InputGeometry, ParsesNamesAndRejectsOthers) {
  for (Geometry g : kGeometries) EXPECT_EQ(parse_geometry(ecotta::model::to_string(g)), g);
  expect_invalid([] { parse_geometry("stretch"); }, {"stretch", "squash", "crop", "letterbox"});
}

namespace {

void expect_view(const ViewRect& v, double x, double y, double width, double height, const char* what) {
  EXPECT_DOUBLE_EQ(v.x, x) << what;
  EXPECT_DOUBLE_EQ(v.y, y) << what;
  EXPECT_DOUBLE_EQ(v.width, width) << what;
  EXPECT_DOUBLE_EQ(v.height, height) << what;
}

}  // namespace

TEST(InputGeometry, ViewRectangles) {
  expect_view(model_view(640, 480, 32, 32, Geometry::Squash), 0, 0, 640, 480, "squash");
  expect_view(model_view(640, 480, 32, 32, Geometry::Crop), 80, 0, 480, 480, "crop");
  expect_view(model_view(640, 480, 64, 32, Geometry::Crop), 0, 80, 640, 320, "crop to a wide input");
  expect_view(model_view(33, 17, 32, 32, Geometry::Crop), 8, 0, 17, 17, "crop of an odd frame");
  expect_view(model_view(640, 480, 32, 32, Geometry::Letterbox), 0, -80, 640, 640, "letterbox");
  expect_view(model_view(480, 640, 32, 32, Geometry::Letterbox), -80, 0, 640, 640, "portrait letterbox");
  EXPECT_THROW(model_view(0, 480, 32, 32, Geometry::Crop), std::invalid_argument);
}

TEST(FrameInput, CropIsTheCenteredSquareAndSquashTheWholeFrame) {
  // Grey frame with red markers in the 80-pixel side bands a centered square leaves out.
  cv::Mat picture = solid(640, 480, {100, 100, 100});
  picture(cv::Rect(0, 0, 80, 480)).setTo(cv::Scalar(255, 0, 0));
  picture(cv::Rect(560, 0, 80, 480)).setTo(cv::Scalar(255, 0, 0));
  const Frame bgrx = pack(picture, PixelFormat::BGRx, 16);
  expect_flat(frame_to_model_rgb(bgrx.view, 32, 32, Geometry::Crop), {100, 100, 100}, 0, "crop");
  const cv::Mat squash = frame_to_model_rgb(bgrx.view, 32, 32, Geometry::Squash);
  // 80 of 640 columns = 4 of 32 on each side.
  expect_flat(squash(cv::Rect(0, 0, 4, 32)), {255, 0, 0}, 0, "squash left band");
  expect_flat(squash(cv::Rect(28, 0, 4, 32)), {255, 0, 0}, 0, "squash right band");
  expect_flat(squash(cv::Rect(4, 0, 24, 32)), {100, 100, 100}, 0, "squash middle");

  // The same for I420: a bright luma marker.
  const Frame yuv = make_yuv(
      PixelFormat::I420, 640, 480, [](int x, int) { return x < 80 || x >= 560 ? uint8_t{235} : uint8_t{100}; },
      [](int, int) { return uint8_t{128}; }, [](int, int) { return uint8_t{128}; }, 0);
  const uint8_t grey = expected_rgb(100, 128, 128, YuvMatrix::Bt601, false)[0];
  expect_flat(frame_to_model_rgb(yuv.view, 32, 32, Geometry::Crop), {grey, grey, grey}, 1, "I420 crop");
  expect_flat(frame_to_model_rgb(yuv.view, 32, 32, Geometry::Squash)(cv::Rect(0, 0, 4, 32)), {255, 255, 255}, 1,
              "I420 squash band");
}

TEST(FrameInput, LetterboxHasBlackBarsOfTheRightSize) {
  const cv::Vec3b colour{200, 150, 90};
  for (PixelFormat format : {PixelFormat::RGB, PixelFormat::xBGR}) {
    const Frame f = pack(solid(640, 480, colour), format, 4);
    const cv::Mat out = frame_to_model_rgb(f.view, 32, 32, Geometry::Letterbox);
    expect_flat(out(cv::Rect(0, 0, 32, 4)), {0, 0, 0}, 0, "top bar");
    expect_flat(out(cv::Rect(0, 28, 32, 4)), {0, 0, 0}, 0, "bottom bar");
    expect_flat(out(cv::Rect(0, 4, 32, 24)), colour, 0, "picture");
  }
  // Portrait: bars left and right.
  const Frame tall = pack(solid(480, 640, colour), PixelFormat::RGB, 0);
  const cv::Mat out = frame_to_model_rgb(tall.view, 32, 32, Geometry::Letterbox);
  expect_flat(out(cv::Rect(0, 0, 4, 32)), {0, 0, 0}, 0, "left bar");
  expect_flat(out(cv::Rect(28, 0, 4, 32)), {0, 0, 0}, 0, "right bar");
  expect_flat(out(cv::Rect(4, 0, 24, 32)), colour, 0, "picture");
  // YUV frames get the same black bars (RGB 0, not studio-range black).
  const Frame yuv = flat_yuv(PixelFormat::NV12, 640, 480, 180, 100, 150);
  const cv::Mat yuv_out = frame_to_model_rgb(yuv.view, 32, 32, Geometry::Letterbox);
  expect_flat(yuv_out(cv::Rect(0, 0, 32, 4)), {0, 0, 0}, 0, "NV12 top bar");
  expect_flat(yuv_out(cv::Rect(0, 4, 32, 24)), expected_rgb(180, 100, 150, YuvMatrix::Bt601, false), 2,
              "NV12 picture");
}

// model_view must describe exactly what is sampled: on a frame whose red
// channel is a horizontal ramp and green a vertical one, each output pixel
// holds the ramp value at its centre mapped through the view rectangle, and
// pixels mapped outside the frame are black.
TEST(FrameInput, ModelViewMatchesTheSampledPixels) {
  const cv::Size frame_sizes[] = {{640, 480}, {480, 640}, {1920, 1080}, {333, 171}, {50, 50}};
  const cv::Size model_sizes[] = {{32, 32}, {64, 32}, {24, 64}, {100, 100}};
  for (cv::Size fs : frame_sizes) {
    cv::Mat picture(fs, CV_8UC3);
    for (int y = 0; y < fs.height; ++y)
      for (int x = 0; x < fs.width; ++x)
        picture.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<uint8_t>((x + 0.5) * 255.0 / fs.width),
                                                cv::saturate_cast<uint8_t>((y + 0.5) * 255.0 / fs.height), 255);
    const Frame f = pack(picture, PixelFormat::BGRA, 8);
    for (cv::Size ms : model_sizes)
      for (Geometry g : kGeometries) {
        const ViewRect v = model_view(fs.width, fs.height, ms.width, ms.height, g);
        const cv::Mat out = frame_to_model_rgb(f.view, ms.width, ms.height, g);
        const std::string what = std::to_string(fs.width) + "x" + std::to_string(fs.height) + " -> " +
                                 std::to_string(ms.width) + "x" + std::to_string(ms.height) + " " +
                                 ecotta::model::to_string(g);
        for (int j = 0; j < ms.height; ++j)
          for (int i = 0; i < ms.width; ++i) {
            const double fx = v.x + (i + 0.5) * v.width / ms.width;
            const double fy = v.y + (j + 0.5) * v.height / ms.height;
            const cv::Vec3b p = out.at<cv::Vec3b>(j, i);
            if (fx < 0 || fx > fs.width || fy < 0 || fy > fs.height) {
              ASSERT_EQ(p, cv::Vec3b(0, 0, 0)) << what << " bar pixel (" << i << "," << j << ")";
              continue;
            }
            ASSERT_EQ(p[2], 255) << what << " picture pixel (" << i << "," << j << ")";
            // Edge pixels of an upscale clamp to the border sample.
            const double tol = 2.0 + 255.0 / std::min(fs.width, fs.height);
            ASSERT_NEAR(p[0], fx * 255.0 / fs.width, tol) << what << " at (" << i << "," << j << ")";
            ASSERT_NEAR(p[1], fy * 255.0 / fs.height, tol) << what << " at (" << i << "," << j << ")";
          }
      }
  }
}

// ---- sizes and strides ---------------------------------------------------

TEST(FrameInput, OnePixelFrames) {
  const cv::Vec3b colour{10, 200, 77};
  const Frame rgb = pack(solid(1, 1, colour), PixelFormat::ARGB, 3);
  const Frame i420 = flat_yuv(PixelFormat::I420, 1, 1, 120, 90, 170, 0);  // 1x1 chroma
  const Frame nv12 = flat_yuv(PixelFormat::NV12, 1, 1, 120, 90, 170, 1);
  const cv::Vec3b yuv_colour = expected_rgb(120, 90, 170, YuvMatrix::Bt601, false);
  for (Geometry g : kGeometries) {
    const std::string what = ecotta::model::to_string(g);
    expect_flat(frame_to_model_rgb(rgb.view, 32, 32, g), colour, 0, "ARGB 1x1 " + what);
    expect_flat(frame_to_model_rgb(i420.view, 32, 32, g), yuv_colour, 2, "I420 1x1 " + what);
    expect_flat(frame_to_model_rgb(nv12.view, 64, 64, g), yuv_colour, 2, "NV12 1x1 " + what);
  }
  expect_flat(frame_to_rgb(i420.view), yuv_colour, 2, "I420 1x1 whole");
  EXPECT_EQ(frame_to_rgb(i420.view).size(), cv::Size(1, 1));
}

TEST(FrameInput, OddAndLargeSizesWithPaddedStrides) {
  for (cv::Size fs : {cv::Size(33, 17), cv::Size(1920, 1080), cv::Size(17, 33)})
    for (PixelFormat format : {PixelFormat::I420, PixelFormat::NV12}) {
      const Frame f = flat_yuv(format, fs.width, fs.height, 90, 200, 60, 64);
      const cv::Vec3b want = expected_rgb(90, 200, 60, YuvMatrix::Bt601, false);
      const cv::Mat whole = frame_to_rgb(f.view);
      ASSERT_EQ(whole.size(), fs);
      EXPECT_TRUE(whole.isContinuous());
      expect_flat(whole, want, 2, "whole");
      for (Geometry g : kGeometries) {
        const cv::Mat out = frame_to_model_rgb(f.view, 64, 64, g);
        ASSERT_EQ(out.size(), cv::Size(64, 64));
        ASSERT_EQ(out.type(), CV_8UC3);
        EXPECT_TRUE(out.isContinuous());
        if (g != Geometry::Letterbox) expect_flat(out, want, 2, ecotta::model::to_string(g));
      }
    }
}

// ---- errors ----------------------------------------------------------------

TEST(FrameInput, RejectsBrokenFrames) {
  Frame rgb = pack(solid(8, 4, {1, 2, 3}), PixelFormat::RGB, 0);
  FrameView v = rgb.view;
  v.planes[0] = nullptr;
  expect_invalid([&] { frame_to_model_rgb(v, 32, 32, Geometry::Crop); }, {"RGB", "plane 0", "null"});
  v = rgb.view;
  v.width = 0;
  expect_invalid([&] { frame_to_model_rgb(v, 32, 32, Geometry::Crop); }, {"empty", "0x4"});
  v = rgb.view;
  v.height = -1;
  expect_invalid([&] { frame_to_rgb(v); }, {"empty"});
  v = rgb.view;
  v.strides[0] = 23;  // a row is 24 bytes
  expect_invalid([&] { frame_to_model_rgb(v, 32, 32, Geometry::Squash); }, {"stride 23", "24 bytes"});
  Frame bgrx = pack(solid(8, 4, {1, 2, 3}), PixelFormat::BGRx, 0);
  bgrx.view.strides[0] = 24;  // 8 pixels of 4 bytes need 32
  expect_invalid([&] { frame_to_rgb(bgrx.view); }, {"BGRx", "stride 24", "32 bytes"});
  expect_invalid([&] { frame_to_model_rgb(rgb.view, 0, 32, Geometry::Crop); }, {"0x32"});

  Frame i420 = flat_yuv(PixelFormat::I420, 9, 5, 100, 128, 128, 0);
  i420.view.planes[2] = nullptr;
  expect_invalid([&] { frame_to_model_rgb(i420.view, 32, 32, Geometry::Crop); }, {"I420", "plane 2", "(V)"});
  Frame nv12 = flat_yuv(PixelFormat::NV12, 9, 5, 100, 128, 128, 0);
  nv12.view.strides[1] = 9;  // interleaved UV of 5 chroma samples needs 10 bytes
  expect_invalid([&] { frame_to_model_rgb(nv12.view, 32, 32, Geometry::Crop); },
                 {"NV12", "(UV)", "stride 9", "10 bytes"});
}

// ---- cost ----------------------------------------------------------------

namespace {

double mean_ms(const FrameView& frame, int width, int height, Geometry geometry, int iterations) {
  volatile int sink = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < iterations; ++i) sink = sink + frame_to_model_rgb(frame, width, height, geometry).data[0];
  const std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
  return elapsed.count() / iterations;
}

}  // namespace

// Prints the per-frame cost on the streaming thread; no assertion on time.
TEST(FrameInputTiming, ReportsMeanConversionTime) {
  const Frame bgrx = pack(test_picture(640, 480), PixelFormat::BGRx, 0);
  const Frame i420 = make_yuv(
      PixelFormat::I420, 1920, 1080, [](int x, int y) { return static_cast<uint8_t>(x + y); },
      [](int x, int) { return static_cast<uint8_t>(x); }, [](int, int y) { return static_cast<uint8_t>(y); }, 0);
  for (Geometry g : {Geometry::Squash, Geometry::Crop}) {
    const double bgrx_ms = mean_ms(bgrx.view, 32, 32, g, 300);
    const double i420_ms = mean_ms(i420.view, 64, 64, g, 200);
    std::printf("[ timing ] %s: BGRx 640x480 -> 32x32 %.3f ms, I420 1920x1080 -> 64x64 %.3f ms\n",
                ecotta::model::to_string(g).c_str(), bgrx_ms, i420_ms);
  }
}
