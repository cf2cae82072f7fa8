// libFuzzer target: the element's frame handling. The first bytes choose a
// pixel format, a frame size, per-plane row padding, a model size and a
// geometry; the rest are the pixels. A frame is built only as GStreamer
// would map it (every plane's rows present), then turned into the model's
// view. It must come back model-sized, or be refused with
// std::invalid_argument, never read outside the frame.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <opencv2/core.hpp>

#include "model/input_geometry.h"
#include "stream/frame_input.h"

using namespace ecotta;

namespace {

// Bytes per pixel of the first plane (packed formats) and the planes' shapes.
struct Layout {
  int planes = 1;
  int row_bytes[3] = {0, 0, 0};
  int rows[3] = {0, 0, 0};
};

Layout layout(stream::PixelFormat f, int w, int h) {
  using PF = stream::PixelFormat;
  Layout l;
  const int cw = (w + 1) / 2, ch = (h + 1) / 2;
  switch (f) {
    case PF::RGB:
    case PF::BGR: l.row_bytes[0] = 3 * w; break;
    case PF::GRAY8: l.row_bytes[0] = w; break;
    case PF::I420:
      l.planes = 3;
      l.row_bytes[0] = w, l.row_bytes[1] = cw, l.row_bytes[2] = cw;
      l.rows[1] = ch, l.rows[2] = ch;
      break;
    case PF::NV12:
      l.planes = 2;
      l.row_bytes[0] = w, l.row_bytes[1] = 2 * cw;
      l.rows[1] = ch;
      break;
    default: l.row_bytes[0] = 4 * w; break;
  }
  l.rows[0] = h;
  return l;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const auto& names = stream::pixel_format_names();
  const auto format = stream::parse_pixel_format(names[data[0] % names.size()]);
  const int width = 1 + data[1] % 64 + (data[2] & 1) * 1800;  // up to 1864: a 1080p-wide row
  const int height = 1 + data[3] % 48;
  const int pad = data[4] % 17;  // extra bytes per row, odd ones included
  const int model_w = 1 + data[5] % 80, model_h = 1 + data[6] % 80;
  const auto geometry = static_cast<model::Geometry>(data[7] % 3);
  data += 8;
  size -= 8;
  const Layout l = layout(format, width, height);
  stream::FrameView frame;
  frame.format = format;
  frame.width = width;
  frame.height = height;
  frame.full_range = pad & 1;
  size_t needed = 0;
  for (int p = 0; p < l.planes; ++p) needed += static_cast<size_t>(l.row_bytes[p] + pad) * l.rows[p];
  // Pixels from the input, repeated to fill the frame the caps describe.
  std::vector<uint8_t> pixels(needed);
  for (size_t i = 0; i < needed; ++i) pixels[i] = size ? data[i % size] : 0;
  size_t offset = 0;
  for (int p = 0; p < l.planes; ++p) {
    frame.planes[p] = pixels.data() + offset;
    frame.strides[p] = l.row_bytes[p] + pad;
    offset += static_cast<size_t>(frame.strides[p]) * l.rows[p];
  }
  try {
    const cv::Mat view = stream::frame_to_model_rgb(frame, model_w, model_h, geometry);
    if (view.cols != model_w || view.rows != model_h || view.type() != CV_8UC3 || !view.isContinuous())
      __builtin_trap();
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
