#pragma once
// The benchmarks' pipelines: gst_parse_launch with its error as an exception.
#include <gst/gst.h>

#include <stdexcept>
#include <string>

namespace ecotta::bench {

inline GstElement* launch(const std::string& description) {
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
  if (!pipeline || error) {
    const std::string message = error ? error->message : "parse failed";
    g_clear_error(&error);
    if (pipeline) gst_object_unref(pipeline);
    throw std::runtime_error("pipeline '" + description + "': " + message);
  }
  return pipeline;
}

}  // namespace ecotta::bench
