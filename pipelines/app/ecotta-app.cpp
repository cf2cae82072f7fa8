// An application that reads ecotta's results: it runs a pipeline ending in
// an appsink, takes each frame's EcottaMeta (our installed header and
// library, `pkg-config ecotta-meta`) and prints one line per frame.
//
//   ecotta-app MODEL VIDEO_OR_URI
//
// Build (after `meson install`, or with PKG_CONFIG_PATH pointing at the
// installed ecotta-meta.pc):
//   g++ -std=c++17 ecotta-app.cpp -o ecotta-app $(pkg-config --cflags --libs ecotta-meta gstreamer-app-1.0)
#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <ecotta-meta.h>

#include <cstdio>
#include <string>

namespace {

// The bus's error, if the pipeline failed (appsink alone would just stop).
bool report_error(GstElement* pipeline) {
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  gst_object_unref(bus);
  if (!msg) return false;
  GError* error = nullptr;
  gst_message_parse_error(msg, &error, nullptr);
  std::fprintf(stderr, "ecotta-app: %s: %s\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)), error ? error->message : "error");
  g_clear_error(&error);
  gst_message_unref(msg);
  return true;
}

void print_result(GstBuffer* buffer) {
  const EcottaMeta* m = ecotta_buffer_get_meta(buffer);
  const double pts = GST_BUFFER_PTS_IS_VALID(buffer) ? static_cast<double>(GST_BUFFER_PTS(buffer)) / GST_SECOND : -1;
  if (!m) {
    std::printf("pts %.3f: no result\n", pts);
    return;
  }
  std::printf("frame %llu  pts %.3f  %s %.2f%s  %s steps %llu%s\n", static_cast<unsigned long long>(m->frame), pts,
              m->label ? m->label : "?", m->confidence,
              m->task == ECOTTA_TASK_SEGMENT ? " of pixels" : "", m->method ? m->method : "?",
              static_cast<unsigned long long>(m->adapt_steps), m->reused ? "  (reused)" : "");
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL VIDEO_OR_URI\n", argv[0]);
    return 2;
  }
  const std::string input = argv[2];
  gchar* uri = gst_uri_is_valid(input.c_str()) ? g_strdup(input.c_str()) : gst_filename_to_uri(input.c_str(), nullptr);
  if (!uri) {
    std::fprintf(stderr, "ecotta-app: '%s' is neither a URI nor a file name\n", input.c_str());
    return 2;
  }
  // The element only reads the frame: any format it supports passes.
  GstElement* pipeline = gst_pipeline_new("app");
  GstElement* source = gst_element_factory_make("uridecodebin", nullptr);
  GstElement* convert = gst_element_factory_make("videoconvert", nullptr);
  GstElement* ecotta = gst_element_factory_make("ecotta", nullptr);
  GstElement* sink = gst_element_factory_make("appsink", nullptr);
  if (!source || !convert || !ecotta || !sink) {
    std::fprintf(stderr, "ecotta-app: missing element%s (is GST_PLUGIN_PATH set to ecotta's plugin folder?)\n",
                 ecotta ? "" : " ecotta");
    return 1;
  }
  g_object_set(source, "uri", uri, nullptr);
  g_free(uri);
  g_object_set(ecotta, "model", argv[1], nullptr);
  g_object_set(sink, "sync", FALSE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline), source, convert, ecotta, sink, nullptr);
  gst_element_link_many(convert, ecotta, sink, nullptr);
  // uridecodebin's pad appears once it knows the stream: link it then.
  g_signal_connect(source, "pad-added", G_CALLBACK(+[](GstElement*, GstPad* pad, gpointer convert_element) {
                     GstPad* sink_pad = gst_element_get_static_pad(GST_ELEMENT(convert_element), "sink");
                     if (!gst_pad_is_linked(sink_pad)) gst_pad_link(pad, sink_pad);
                     gst_object_unref(sink_pad);
                   }),
                   convert);

  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  int status = 0;
  for (;;) {
    GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 100 * GST_MSECOND);
    if (sample) {
      print_result(gst_sample_get_buffer(sample));
      gst_sample_unref(sample);
      continue;
    }
    if (gst_app_sink_is_eos(GST_APP_SINK(sink))) break;
    if (report_error(pipeline)) {
      status = 1;
      break;
    }
  }
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return status;
}
