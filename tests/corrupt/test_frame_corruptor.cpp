#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "corrupt/corruption.h"
#include "corrupt/frame_corruptor.h"

using ecotta::corrupt::Condition;
using ecotta::corrupt::ConditionSchedule;
using ecotta::corrupt::corrupt_frame;
using ecotta::corrupt::FrameCorruptor;
using ecotta::corrupt::PixelLayout;

namespace {

// A small colour image with gradients and an edge, so every corruption
// changes it.
cv::Mat test_rgb(int width, int height) {
  cv::Mat img(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      img.at<cv::Vec3b>(y, x) = {static_cast<uint8_t>(40 + 170 * x / width), static_cast<uint8_t>(30 + 190 * y / height),
                                 static_cast<uint8_t>(x < width / 2 ? 60 : 200)};
  return img;
}

// A frame in `layout` holding `rgb`, inside a wider buffer (a row stride
// larger than width * bytes per pixel); the spare byte of a 4-byte pixel and
// the bytes past each row hold marker values.
struct Frame {
  cv::Mat buffer;  // the whole allocation
  cv::Mat view;    // the frame, a region of `buffer`
};

Frame make_frame(const cv::Mat& rgb, const PixelLayout& layout) {
  Frame f;
  f.buffer = cv::Mat(rgb.rows, rgb.cols + 5, CV_8UC(layout.bytes_per_pixel), cv::Scalar::all(77));
  f.view = f.buffer(cv::Rect(0, 0, rgb.cols, rgb.rows));
  for (int y = 0; y < rgb.rows; ++y)
    for (int x = 0; x < rgb.cols; ++x) {
      uint8_t* px = f.view.ptr<uint8_t>(y) + x * layout.bytes_per_pixel;
      const cv::Vec3b c = rgb.at<cv::Vec3b>(y, x);
      if (layout.bytes_per_pixel == 4) px[6 - layout.red - layout.green - layout.blue] = static_cast<uint8_t>(x + y);
      px[layout.red] = c[0];
      px[layout.green] = c[1];
      px[layout.blue] = c[2];
    }
  return f;
}

cv::Mat rgb_of(const cv::Mat& frame, const PixelLayout& layout) {
  cv::Mat rgb(frame.size(), CV_8UC3);
  for (int y = 0; y < frame.rows; ++y)
    for (int x = 0; x < frame.cols; ++x) {
      const uint8_t* px = frame.ptr<uint8_t>(y) + x * layout.bytes_per_pixel;
      rgb.at<cv::Vec3b>(y, x) = {px[layout.red], px[layout.green], px[layout.blue]};
    }
  return rgb;
}

bool identical(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

const std::vector<std::pair<std::string, PixelLayout>>& layouts() {
  static const std::vector<std::pair<std::string, PixelLayout>> all = {
      {"RGB", {3, 0, 1, 2}},  {"BGR", {3, 2, 1, 0}},  {"RGBx", {4, 0, 1, 2}}, {"BGRx", {4, 2, 1, 0}},
      {"xRGB", {4, 1, 2, 3}}, {"xBGR", {4, 3, 2, 1}},
  };
  return all;
}

}  // namespace

TEST(FrameCorruptor, CleanLeavesEveryByteAlone) {
  const cv::Mat rgb = test_rgb(33, 17);
  for (const auto& [name, layout] : layouts()) {
    Frame f = make_frame(rgb, layout);
    const cv::Mat before = f.buffer.clone();
    corrupt_frame(f.view, layout, {"clean", 0}, 1);
    EXPECT_TRUE(identical(f.buffer, before)) << name;
  }
}

TEST(FrameCorruptor, EveryLayoutGivesTheRgbResultAndKeepsTheOtherBytes) {
  const cv::Mat rgb = test_rgb(33, 17);
  for (const char* corruption : {"fog", "gaussian_noise", "jpeg_compression"}) {
    const cv::Mat expected = ecotta::corrupt::apply(corruption, 3, rgb, 42);
    ASSERT_FALSE(identical(expected, rgb)) << corruption;
    for (const auto& [name, layout] : layouts()) {
      Frame f = make_frame(rgb, layout);
      const cv::Mat before = f.buffer.clone();
      corrupt_frame(f.view, layout, {corruption, 3}, 42);
      EXPECT_TRUE(identical(rgb_of(f.view, layout), expected)) << corruption << " in " << name;
      // Only the colour bytes of the frame's own pixels may change.
      for (int y = 0; y < f.buffer.rows; ++y)
        for (int i = 0; i < f.buffer.cols * layout.bytes_per_pixel; ++i) {
          const int x = i / layout.bytes_per_pixel, byte = i % layout.bytes_per_pixel;
          const bool colour = x < rgb.cols && (byte == layout.red || byte == layout.green || byte == layout.blue);
          if (!colour) {
            ASSERT_EQ(f.buffer.ptr<uint8_t>(y)[i], before.ptr<uint8_t>(y)[i]) << name << " x " << x;
          }
        }
    }
  }
}

// A camera or file may deliver any size: every corruption at every severity
// must cope with tiny and odd frames in a 4-byte layout.
TEST(FrameCorruptor, EveryCorruptionHandlesTinyAndOddFrames) {
  const PixelLayout layout{4, 1, 2, 3};
  for (const cv::Size size : {cv::Size(1, 1), cv::Size(2, 3), cv::Size(33, 17)}) {
    const cv::Mat rgb = test_rgb(size.width, size.height);
    for (const std::string& name : ecotta::corrupt::all_corruptions())
      for (int severity = 1; severity <= 5; ++severity) {
        Frame f = make_frame(rgb, layout);
        const cv::Mat before = f.buffer.clone();
        ASSERT_NO_THROW(corrupt_frame(f.view, layout, {name, severity}, 3))
            << name << "@" << severity << " at " << size.width << "x" << size.height;
        cv::Mat alpha_before, alpha_after;
        cv::extractChannel(before, alpha_before, 0);
        cv::extractChannel(f.buffer, alpha_after, 0);
        EXPECT_TRUE(identical(alpha_after, alpha_before)) << name << "@" << severity;
      }
  }
}

TEST(FrameCorruptor, FollowsTheScheduleAndReportsChanges) {
  FrameCorruptor corruptor(ConditionSchedule::parse("clean:1,gaussian_noise@2:1"), 7);
  const PixelLayout layout{4, 2, 1, 0};
  const cv::Mat rgb = test_rgb(20, 10);
  const double times[] = {0.0, 0.5, 1.0, 1.5, 2.0};
  const char* expected[] = {"clean", "clean", "gaussian_noise@2", "gaussian_noise@2", "clean"};
  const bool changes[] = {true, false, true, false, true};
  for (int i = 0; i < 5; ++i) {
    Frame f = make_frame(rgb, layout);
    const cv::Mat before = f.view.clone();
    const auto r = corruptor.process(f.view, layout, times[i], static_cast<uint64_t>(i));
    EXPECT_EQ(ecotta::corrupt::to_string(r.condition), expected[i]) << "t = " << times[i];
    EXPECT_EQ(r.changed, changes[i]) << "t = " << times[i];
    EXPECT_EQ(identical(f.view, before), r.condition.name == "clean") << "t = " << times[i];
  }
  // New settings do not count as a change by themselves.
  corruptor.set_seed(8);
  cv::Mat frame = rgb.clone();
  EXPECT_FALSE(corruptor.process(frame, {}, 0.2, 5).changed);
  corruptor.set_schedule(ConditionSchedule::parse("fog@4:1"));
  const auto r = corruptor.process(frame, {}, 0.3, 6);
  EXPECT_EQ(ecotta::corrupt::to_string(r.condition), "fog@4");
  EXPECT_TRUE(r.changed);
}

TEST(FrameCorruptor, TheSeedAndTheFrameIndexPickTheNoise) {
  const cv::Mat rgb = test_rgb(32, 24);
  const auto run = [&](uint64_t seed, uint64_t index) {
    FrameCorruptor corruptor(ConditionSchedule::parse("shot_noise@3:1"), seed);
    cv::Mat frame = rgb.clone();
    corruptor.process(frame, {}, 0.0, index);
    return frame;
  };
  EXPECT_TRUE(identical(run(1, 3), run(1, 3)));
  EXPECT_FALSE(identical(run(1, 3), run(2, 3)));
  EXPECT_FALSE(identical(run(1, 3), run(1, 4)));
}

TEST(FrameCorruptor, RefusesAFrameThatDoesNotMatchTheLayout) {
  cv::Mat rgb = test_rgb(8, 8);
  EXPECT_THROW(corrupt_frame(rgb, {4, 0, 1, 2}, {"fog", 1}, 0), std::invalid_argument);
  EXPECT_THROW(corrupt_frame(rgb, {3, 0, 0, 2}, {"fog", 1}, 0), std::invalid_argument);
  EXPECT_THROW(corrupt_frame(rgb, {3, 0, 1, 3}, {"fog", 1}, 0), std::invalid_argument);
  try {
    cv::Mat gray(4, 4, CV_8UC1);
    corrupt_frame(gray, {}, {"clean", 0}, 0);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("CV_8UC3"), std::string::npos) << e.what();
  }
}

TEST(FrameCorruptor, ConditionNames) {
  EXPECT_EQ(ecotta::corrupt::to_string({"clean", 0}), "clean");
  EXPECT_EQ(ecotta::corrupt::to_string({"night", 4}), "night@4");
}
