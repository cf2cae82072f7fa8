#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "model/input_geometry.h"

namespace ecotta::stream {

// The raw video formats a frame may arrive in, named as GStreamer names them.
enum class PixelFormat { RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, GRAY8, I420, NV12 };

// GStreamer's format names ("RGB", "BGRx", "I420", ...); std::invalid_argument
// naming the format and listing the supported ones otherwise.
PixelFormat parse_pixel_format(const std::string& name);
const char* to_string(PixelFormat format);
const std::vector<std::string>& pixel_format_names();  // every supported name, in enum order

enum class YuvMatrix { Bt601, Bt709 };

// A mapped video frame as GStreamer hands it out: any size, per-plane stride
// (bytes per row, may exceed width * bytes per pixel).
struct FrameView {
  PixelFormat format = PixelFormat::RGB;
  int width = 0, height = 0;
  const uint8_t* planes[3] = {nullptr, nullptr, nullptr};  // I420: Y, U, V; NV12: Y, UV; else plane 0 only
  int strides[3] = {0, 0, 0};
  YuvMatrix matrix = YuvMatrix::Bt601;  // YUV formats only
  bool full_range = false;              // YUV formats only: false = studio range (Y 16-235, C 16-240)
};

// The frame as the model sees it under `geometry` (model::model_view): 8-bit
// RGB, model_height x model_width, CV_8UC3, contiguous. Throws
// std::invalid_argument for an empty frame, a null plane or a stride smaller
// than a row.
cv::Mat frame_to_model_rgb(const FrameView& frame, int model_width, int model_height, model::Geometry geometry);

// The whole frame as 8-bit RGB at its own size (for corruption and drawing helpers).
cv::Mat frame_to_rgb(const FrameView& frame);

}  // namespace ecotta::stream
