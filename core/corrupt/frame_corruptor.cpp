#include "frame_corruptor.h"

#include <stdexcept>

#include <opencv2/core.hpp>

#include "corruption.h"
#include "data/splitmix.h"

namespace ecotta::corrupt {
namespace {

void check_layout(const cv::Mat& frame, const PixelLayout& layout) {
  const int n = layout.bytes_per_pixel;
  const auto in_pixel = [n](int offset) { return offset >= 0 && offset < n; };
  if ((n != 3 && n != 4) || !in_pixel(layout.red) || !in_pixel(layout.green) || !in_pixel(layout.blue) ||
      layout.red == layout.green || layout.red == layout.blue || layout.green == layout.blue)
    throw std::invalid_argument("corrupt_frame: bad pixel layout (" + std::to_string(n) + " bytes, red " +
                                std::to_string(layout.red) + ", green " + std::to_string(layout.green) + ", blue " +
                                std::to_string(layout.blue) + ")");
  if (frame.type() != CV_8UC(n))
    throw std::invalid_argument("corrupt_frame: frame type " + cv::typeToString(frame.type()) + " does not match a " +
                                std::to_string(n) + "-byte pixel layout (expected " +
                                cv::typeToString(CV_8UC(n)) + ")");
}

bool is_plain_rgb(const PixelLayout& layout) {
  return layout.bytes_per_pixel == 3 && layout.red == 0 && layout.green == 1 && layout.blue == 2;
}

}  // namespace

std::string to_string(const Condition& condition) {
  if (condition.name == "clean") return "clean";
  return condition.name + "@" + std::to_string(condition.severity);
}

void corrupt_frame(cv::Mat& frame, const PixelLayout& layout, const Condition& condition, uint64_t seed) {
  check_layout(frame, layout);
  if (condition.name == "clean" || frame.empty()) return;
  if (is_plain_rgb(layout)) {
    apply(condition.name, condition.severity, frame, seed).copyTo(frame);  // copyTo keeps the frame's buffer
    return;
  }
  // Gather R, G, B into a packed RGB image and scatter the result back: the
  // frame's other byte is not among the scattered channels.
  cv::Mat rgb(frame.size(), CV_8UC3);
  const int gather[] = {layout.red, 0, layout.green, 1, layout.blue, 2};
  cv::mixChannels(&frame, 1, &rgb, 1, gather, 3);
  const cv::Mat out = apply(condition.name, condition.severity, rgb, seed);
  const int scatter[] = {0, layout.red, 1, layout.green, 2, layout.blue};
  cv::mixChannels(&out, 1, &frame, 1, scatter, 3);
}

FrameCorruptor::Result FrameCorruptor::process(cv::Mat& frame, const PixelLayout& layout, double t, uint64_t index) {
  Result result;
  result.condition = schedule_.at(t);
  corrupt_frame(frame, layout, result.condition, data::derive_seed(seed_, index));
  result.changed = !previous_ || previous_->name != result.condition.name ||
                   previous_->severity != result.condition.severity;
  previous_ = result.condition;
  return result;
}

}  // namespace ecotta::corrupt
