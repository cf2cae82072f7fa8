// One JSON object per frame from its EcottaMeta: the line ecottametalog
// writes to a file, stdout or MQTT. Depends only on the meta header and
// nlohmann-json, so it is tested and reused without an element.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "ecotta-meta.h"

namespace ecotta::gst {

// The frame's result. `pts`: the buffer's time stamp in ns (null when it
// has none). Without a meta (`meta` null) the object is
// {"frame": frame_counter, "pts": ..., "result": null}; with one, `frame`
// is the meta's own frame index and frame_counter is not used.
// With `class_map`, a segmentation result also carries its class map:
// "class_map": {"width", "height", "view": [x, y, width, height] (frame
// pixels the map covers), "data": base64 of width x height class bytes,
// row-major}.
nlohmann::json frame_json(const EcottaMeta* meta, std::uint64_t frame_counter, std::optional<std::uint64_t> pts,
                          bool class_map = false);

// frame_json as one compact line, without the newline. Invalid UTF-8 in a
// label is replaced, never thrown about.
std::string frame_line(const EcottaMeta* meta, std::uint64_t frame_counter, std::optional<std::uint64_t> pts,
                       bool class_map = false);

}  // namespace ecotta::gst
