#include "input_geometry.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace ecotta::model {

Geometry parse_geometry(const std::string& name) {
  if (name == "squash") return Geometry::Squash;
  if (name == "crop") return Geometry::Crop;
  if (name == "letterbox") return Geometry::Letterbox;
  throw std::invalid_argument("unknown input geometry '" + name + "' (expected squash, crop or letterbox)");
}

std::string to_string(Geometry geometry) {
  switch (geometry) {
    case Geometry::Squash: return "squash";
    case Geometry::Crop: return "crop";
    case Geometry::Letterbox: return "letterbox";
  }
  return "unknown";
}

namespace {

// round(numerator / denominator) clamped to [1, limit]: a side of the
// aspect-preserving rectangle, in whole pixels so crops and letterbox bars
// are whole pixels too.
int fitted_side(long long numerator, long long denominator, int limit) {
  const long long side = (2 * numerator + denominator) / (2 * denominator);  // rounds half up
  return static_cast<int>(std::clamp<long long>(side, 1, limit));
}

}  // namespace

ViewRect model_view(int frame_width, int frame_height, int model_width, int model_height, Geometry geometry) {
  if (frame_width <= 0 || frame_height <= 0 || model_width <= 0 || model_height <= 0)
    throw std::invalid_argument("model_view: sizes must be positive (frame " + std::to_string(frame_width) + "x" +
                                std::to_string(frame_height) + ", model " + std::to_string(model_width) + "x" +
                                std::to_string(model_height) + ")");
  const double fw = frame_width, fh = frame_height;
  // Integer comparison of the aspect ratios: frame_w/frame_h >= model_w/model_h.
  const bool frame_wider = 1LL * frame_width * model_height >= 1LL * frame_height * model_width;
  switch (geometry) {
    case Geometry::Squash:
      return {0, 0, fw, fh};
    case Geometry::Crop: {
      int w = frame_width, h = frame_height;
      if (frame_wider)
        w = fitted_side(1LL * frame_height * model_width, model_height, frame_width);
      else
        h = fitted_side(1LL * frame_width * model_height, model_width, frame_height);
      return {static_cast<double>((frame_width - w) / 2), static_cast<double>((frame_height - h) / 2),
              static_cast<double>(w), static_cast<double>(h)};
    }
    case Geometry::Letterbox: {
      // The frame occupies content_w x content_h model pixels at (ox, oy);
      // the view is the model input mapped back into frame pixels.
      int content_w = model_width, content_h = model_height;
      if (frame_wider)
        content_h = fitted_side(1LL * frame_height * model_width, frame_width, model_height);
      else
        content_w = fitted_side(1LL * frame_width * model_height, frame_height, model_width);
      const int ox = (model_width - content_w) / 2, oy = (model_height - content_h) / 2;
      const double sx = fw / content_w, sy = fh / content_h;  // frame pixels per model pixel
      return {-ox * sx, -oy * sy, model_width * sx, model_height * sy};
    }
  }
  throw std::invalid_argument("model_view: unknown geometry");
}

}  // namespace ecotta::model
