// Draws an EcottaMeta onto a packed 32-bit video frame: the classification
// box with top-k bars, the blended segmentation map with its legend, and the
// adaptation panel. Plain C++ on cairo/pango; the ecottaoverlay element is
// only its GObject shell.
//
// Panels are rendered with PangoCairo into small cached ARGB32 surfaces
// (re-laid out only when their text changes) and composited by hand, so one
// code path serves every byte order (BGRx, RGBA, xRGB, ...) and any stride.
// The class map is blended by hand through lookup tables built once per
// geometry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ecotta-meta.h"

namespace ecotta::overlay {

struct OverlayOptions {
  double alpha = 0.45;               // opacity of the class map, 0..1
  unsigned top_k = 3;                // classification bars, 0 = none
  bool show_adaptation = true;       // the adaptation panel
  std::string font_desc = "Sans Bold 12";

  bool operator==(const OverlayOptions& o) const {
    return alpha == o.alpha && top_k == o.top_k && show_adaptation == o.show_adaptation && font_desc == o.font_desc;
  }
};

// Byte offsets of the colour channels inside one 4-byte pixel; alpha < 0
// when the format has no alpha (the padding byte is left alone).
struct PixelLayout {
  int r = 2, g = 1, b = 0, a = -1;  // BGRx
};

// A frame to draw on: `stride` bytes between rows (may exceed width * 4).
struct FrameView {
  uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int stride = 0;
  PixelLayout layout;
};

struct Rgb {
  uint8_t r, g, b;
};

// The fixed colour of class `id` (class 0 is black; 1..19 hand-picked
// distinct colours, the rest generated).
Rgb palette_colour(unsigned id);

// Frames kept for the entropy sparkline.
constexpr std::size_t kTrendFrames = 100;

class OverlayRenderer {
 public:
  OverlayRenderer();
  ~OverlayRenderer();
  OverlayRenderer(const OverlayRenderer&) = delete;
  OverlayRenderer& operator=(const OverlayRenderer&) = delete;

  // Cheap when nothing changed; a new font drops the cached text.
  void set_options(const OverlayOptions& options);
  // Forgets the entropy history (a new stream, a seek).
  void reset();
  // Draws everything `meta` carries onto `frame`. Throws std::runtime_error
  // when cairo cannot allocate a surface.
  void draw(const FrameView& frame, const EcottaMeta& meta);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ecotta::overlay
