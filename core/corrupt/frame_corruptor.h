#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <opencv2/core/mat.hpp>

#include "condition_schedule.h"

namespace ecotta::corrupt {

// Where red, green and blue sit in one pixel of a packed 8-bit frame: RGB is
// {3, 0, 1, 2}, BGRx {4, 2, 1, 0}, ARGB {4, 1, 2, 3}. The other byte of a
// 4-byte pixel (alpha or padding) is never written.
struct PixelLayout {
  int bytes_per_pixel = 3;  // 3 or 4
  int red = 0;
  int green = 1;
  int blue = 2;
};

// "fog@3", or "clean".
std::string to_string(const Condition& condition);

// Applies `condition` to a packed frame in place: the frame (CV_8UC3 or
// CV_8UC4 as the layout says, any row stride) goes through the RGB that the
// corruptions expect and back. "clean" does not touch a byte. Throws
// std::invalid_argument for a frame that does not match the layout.
void corrupt_frame(cv::Mat& frame, const PixelLayout& layout, const Condition& condition, uint64_t seed);

// The per-frame logic of the ecottacorrupt element: which condition the
// schedule gives at a frame's time, and that condition applied with a seed
// of its own (derived from the seed and the frame's index, so a run is
// reproducible frame by frame).
class FrameCorruptor {
 public:
  FrameCorruptor(ConditionSchedule schedule, uint64_t seed) : schedule_(std::move(schedule)), seed_(seed) {}

  // What happened to one frame; `changed` is true when the condition differs
  // from the previous frame's (and for the first frame).
  struct Result {
    Condition condition;
    bool changed = false;
  };

  // Corrupts the frame shown `t` seconds into the stream; `index` counts
  // frames from 0.
  Result process(cv::Mat& frame, const PixelLayout& layout, double t, uint64_t index);

  // New settings take effect at the next frame; the previous condition is
  // kept, so a change is reported only when the condition really changes.
  void set_schedule(ConditionSchedule schedule) { schedule_ = std::move(schedule); }
  void set_seed(uint64_t seed) { seed_ = seed; }

 private:
  ConditionSchedule schedule_;
  uint64_t seed_;
  std::optional<Condition> previous_;
};

}  // namespace ecotta::corrupt
