#pragma once
#include <string>

namespace ecotta::model {

// How a frame of any size becomes the model's input (height x width):
//   Squash     the whole frame resized to the input, aspect ratio lost;
//   Crop       the largest centered region of the input's aspect ratio,
//              resized (what a classifier trained on centered items wants);
//   Letterbox  the whole frame scaled to fit, centered, black bars.
enum class Geometry { Squash, Crop, Letterbox };

Geometry parse_geometry(const std::string& name);  // "squash" | "crop" | "letterbox"; std::invalid_argument otherwise
std::string to_string(Geometry geometry);

// The frame rectangle (in frame pixels) that maps onto the whole model
// input: the frame itself (squash), a centered part of it (crop), or a
// rectangle reaching past the frame on two sides (letterbox).
struct ViewRect {
  double x = 0, y = 0, width = 0, height = 0;
};
ViewRect model_view(int frame_width, int frame_height, int model_width, int model_height, Geometry geometry);

}  // namespace ecotta::model
