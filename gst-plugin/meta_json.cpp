// frame_json: EcottaMeta -> JSON, field by field.
#include "meta_json.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace ecotta::gst {

namespace {

using nlohmann::json;

// A float as the shortest decimal that reads back as the same float, so
// 0.9f is written 0.9 rather than 0.8999999761581543.
json number(float value) {
  if (!std::isfinite(value)) return nullptr;
  char text[32];
  const auto result = std::to_chars(text, text + sizeof(text) - 1, value);
  *result.ptr = '\0';
  return std::strtod(text, nullptr);
}

json text_or_null(const gchar* text) { return text ? json(text) : json(nullptr); }

// A class's name for keys and labels: its label, else its number.
std::string class_name(const EcottaMeta* meta, gint id) {
  const gchar* label = ecotta_meta_class_label(meta, id);
  return label ? std::string(label) : std::to_string(id);
}

}  // namespace

json frame_json(const EcottaMeta* meta, std::uint64_t frame_counter, std::optional<std::uint64_t> pts,
                bool class_map) {
  json out = json::object();
  out["frame"] = meta ? meta->frame : frame_counter;
  out["pts"] = pts ? json(*pts) : json(nullptr);
  if (!meta) {
    out["result"] = nullptr;
    return out;
  }
  const bool segment = meta->task == ECOTTA_TASK_SEGMENT;
  out["task"] = segment ? "segment" : "classify";
  out["class_id"] = meta->class_id;
  out["label"] = text_or_null(meta->label);
  out["confidence"] = number(meta->confidence);
  if (!segment) {
    json top = json::array();
    for (guint i = 0; i < meta->n_top && i < ECOTTA_META_MAX_TOP; ++i) {
      const EcottaClassScore& s = meta->top[i];
      top.push_back({{"class_id", s.class_id}, {"label", text_or_null(ecotta_meta_class_label(meta, s.class_id))},
                     {"score", number(s.score)}});
    }
    out["top"] = std::move(top);
  }
  if (meta->class_share) {
    json share = json::object();
    for (guint i = 0; i < meta->n_classes; ++i) share[class_name(meta, static_cast<gint>(i))] = number(meta->class_share[i]);
    out["class_share"] = std::move(share);
  }
  if (class_map && meta->class_map && meta->map_width > 0 && meta->map_height > 0) {
    gchar* data = g_base64_encode(meta->class_map, static_cast<gsize>(meta->map_width) * meta->map_height);
    out["class_map"] = {{"width", meta->map_width},
                        {"height", meta->map_height},
                        {"view", {meta->view_x, meta->view_y, meta->view_width, meta->view_height}},
                        {"data", data}};
    g_free(data);
  }
  out["entropy"] = number(meta->entropy);
  out["mean_entropy"] = number(meta->mean_entropy);
  out["reused"] = static_cast<bool>(meta->reused);
  out["method"] = text_or_null(meta->method);
  out["adapting"] = static_cast<bool>(meta->adapting);
  out["adapt_steps"] = meta->adapt_steps;
  out["snapshot"] = meta->snapshot;
  out["peak_adapt_bytes"] = meta->peak_adapt_bytes;
  out["memory_cap"] = meta->memory_cap;
  // Per camera when several share one adaptation group.
  if (meta->camera) out["camera"] = meta->camera;
  if (meta->adaptation_group) out["adaptation_group"] = meta->adaptation_group;
  return out;
}

std::string frame_line(const EcottaMeta* meta, std::uint64_t frame_counter, std::optional<std::uint64_t> pts,
                       bool class_map) {
  return frame_json(meta, frame_counter, pts, class_map).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace ecotta::gst
