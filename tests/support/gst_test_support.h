#pragma once
// Helpers for the element tests: GStreamer initialised once, the plugin
// found in build/gst-plugin (meson's test environment sets GST_PLUGIN_PATH).
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>

namespace ecotta::test_support {

inline void init_gstreamer() {
  static bool done = [] {
    gst_init(nullptr, nullptr);
    return true;
  }();
  (void)done;
}

// A shipped model file, by name (models/NAME).
inline std::string model_path(const std::string& name) { return std::string(ECOTTA_SOURCE_ROOT) + "/models/" + name; }

// Runs a gst-launch style pipeline description to EOS or error; returns
// the error message, empty on success. Fails the test on a timeout.
inline std::string run_pipeline(const std::string& description, GstClockTime timeout = 120 * GST_SECOND) {
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
  if (!pipeline) {
    std::string message = error ? error->message : "parse failed";
    g_clear_error(&error);
    return message;
  }
  g_clear_error(&error);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg =
      gst_bus_timed_pop_filtered(bus, timeout, static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  std::string result;
  if (!msg) {
    ADD_FAILURE() << "pipeline timed out: " << description;
    result = "timeout";
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    GError* err = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(msg, &err, &debug);
    result = err ? err->message : "error";
    if (debug) result += std::string(" (") + debug + ")";
    g_clear_error(&err);
    g_free(debug);
  }
  if (msg) gst_message_unref(msg);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return result;
}

}  // namespace ecotta::test_support
