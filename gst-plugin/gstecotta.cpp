// ecotta: classifies or segments every frame with a LibTorch network and
// adapts the network to the scene in a background thread (EcoTTA and its
// baselines). A GObject shell over stream::Engine (core/stream/engine.h):
// properties, caps, mapping the frame, attaching metadata, bus messages.
#include <gst/gst.h>
#include <gst/video/gstvideometa.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "ecotta-meta.h"
#include "elements.h"
#include "stream/engine.h"

GST_DEBUG_CATEGORY_STATIC(ecotta_debug);
#define GST_CAT_DEFAULT ecotta_debug

namespace {

// What the properties hold; guarded by the object lock.
struct Settings {
  std::string model, labels_file, device = "cpu", checkpoint_location, adaptation_group;
  int method = 0;  // index into stream::method_names()
  bool adapt = true;
  guint64 memory_cap = 0;
  int adapt_batch = 16, sample_interval = 4, inference_interval = 1, threads = 0, top_k = 5;
  double learning_rate = -1, reg_weight = -1, entropy_margin = -1;
  double checkpoint_interval = 60, stats_interval = 1;
};

// The C++ state behind the instance struct (GObject runs no constructors).
struct State {
  Settings settings;
  std::unique_ptr<ecotta::stream::Engine> engine;
  GStrv labels = nullptr;  // the engine's labels for the metadata
  std::string camera, group;  // the element's name and group, for the metadata
  gint64 last_stats_us = 0;
  std::string last_worker_error;
  // Last figures for the read-only properties once the engine is gone.
  ecotta::stream::EngineStats final_stats;
  ~State() { g_strfreev(labels); }
};

}  // namespace

struct GstEcotta {
  GstVideoFilter parent;
  State* state;
};
struct GstEcottaClass {
  GstVideoFilterClass parent_class;
};

G_DEFINE_TYPE(GstEcotta, gst_ecotta, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE_WITH_CODE(ecotta, "ecotta", GST_RANK_NONE, gst_ecotta_get_type(),
                                      GST_DEBUG_CATEGORY_INIT(ecotta_debug, "ecotta", 0, "ecotta inference and adaptation"))

enum {
  PROP_0,
  PROP_MODEL,
  PROP_LABELS_FILE,
  PROP_ADAPT,
  PROP_METHOD,
  PROP_MEMORY_CAP,
  PROP_ADAPT_BATCH_SIZE,
  PROP_ADAPT_SAMPLE_INTERVAL,
  PROP_LEARNING_RATE,
  PROP_REG_WEIGHT,
  PROP_ENTROPY_MARGIN,
  PROP_INFERENCE_INTERVAL,
  PROP_THREADS,
  PROP_DEVICE,
  PROP_CHECKPOINT_LOCATION,
  PROP_CHECKPOINT_INTERVAL,
  PROP_STATS_INTERVAL,
  PROP_TOP_K,
  PROP_ADAPTATION_GROUP,
  PROP_FRAMES,
  PROP_ADAPT_STEPS,
  PROP_SKIPPED_STEPS,
  PROP_RESETS,
  PROP_PEAK_ADAPT_BYTES,
  PROP_MEAN_ENTROPY,
};

#define VIDEO_FORMATS "{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR, GRAY8, I420, NV12 }"
static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(VIDEO_FORMATS)));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE(VIDEO_FORMATS)));

// The method enum lists the engine's registry, so a new method appears here
// without touching the element.
static GType ecotta_method_get_type() {
  static GType type = 0;
  if (g_once_init_enter(&type)) {
    const auto& names = ecotta::stream::method_names();
    auto* values = g_new0(GEnumValue, names.size() + 1);
    for (size_t i = 0; i < names.size(); ++i) {
      values[i].value = static_cast<gint>(i);
      values[i].value_name = g_strdup(ecotta::stream::method_summary(names[i]).c_str());
      values[i].value_nick = g_strdup(names[i].c_str());
    }
    g_once_init_leave(&type, g_enum_register_static("GstEcottaMethod", values));
  }
  return type;
}

static int method_index(const char* name) {
  const auto& names = ecotta::stream::method_names();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<int>(i);
  return 0;
}

static ecotta::stream::PixelFormat pixel_format(GstVideoFormat format) {
  using PF = ecotta::stream::PixelFormat;
  switch (format) {
    case GST_VIDEO_FORMAT_RGB: return PF::RGB;
    case GST_VIDEO_FORMAT_BGR: return PF::BGR;
    case GST_VIDEO_FORMAT_RGBx: return PF::RGBx;
    case GST_VIDEO_FORMAT_BGRx: return PF::BGRx;
    case GST_VIDEO_FORMAT_xRGB: return PF::xRGB;
    case GST_VIDEO_FORMAT_xBGR: return PF::xBGR;
    case GST_VIDEO_FORMAT_RGBA: return PF::RGBA;
    case GST_VIDEO_FORMAT_BGRA: return PF::BGRA;
    case GST_VIDEO_FORMAT_ARGB: return PF::ARGB;
    case GST_VIDEO_FORMAT_ABGR: return PF::ABGR;
    case GST_VIDEO_FORMAT_GRAY8: return PF::GRAY8;
    case GST_VIDEO_FORMAT_I420: return PF::I420;
    default: return PF::NV12;  // the caps allow nothing else
  }
}

static ecotta::stream::EngineConfig engine_config(const Settings& s) {
  ecotta::stream::EngineConfig c;
  c.model = s.model;
  c.labels_file = s.labels_file;
  c.method = ecotta::stream::method_names().at(static_cast<size_t>(s.method));
  c.adapt = s.adapt;
  c.adapt_batch = s.adapt_batch;
  c.sample_interval = s.sample_interval;
  c.inference_interval = s.inference_interval;
  c.learning_rate = s.learning_rate;
  c.reg_weight = s.reg_weight;
  c.entropy_margin = s.entropy_margin;
  c.memory_cap = static_cast<int64_t>(s.memory_cap);
  c.threads = s.threads;
  c.device = s.device;
  c.checkpoint_path = s.checkpoint_location;
  c.checkpoint_interval = s.checkpoint_interval;
  c.top_k = s.top_k;
  c.adaptation_group = s.adaptation_group;
  return c;
}

static GstStructure* stats_structure(const ecotta::stream::EngineStats& st, const std::string& method,
                                     const std::string& camera) {
  auto* structure = gst_structure_new("ecotta-stats", "frames", G_TYPE_UINT64, st.frames, "inferences", G_TYPE_UINT64,
                           st.inferences, "samples-offered", G_TYPE_UINT64, st.samples_offered, "adapt-steps",
                           G_TYPE_INT64, st.adapt_steps, "skipped-steps", G_TYPE_INT64, st.skipped_steps, "resets",
                           G_TYPE_INT64, st.resets, "peak-adapt-bytes", G_TYPE_INT64, st.peak_adapt_bytes,
                           "last-step-bytes", G_TYPE_INT64, st.last_step_bytes, "mean-step-ms", G_TYPE_DOUBLE,
                           st.mean_step_ms, "memory-cap", G_TYPE_INT64, st.memory_cap, "mean-entropy", G_TYPE_DOUBLE,
                           st.mean_entropy, "buffered", G_TYPE_INT64, st.buffered, "snapshot", G_TYPE_UINT64,
                           st.snapshot, "checkpoints", G_TYPE_INT64, st.checkpoints_written, "tensor-bytes",
                           G_TYPE_INT64, st.tensor_bytes, "kept-bytes", G_TYPE_INT64, st.kept_bytes, "adapting",
                           G_TYPE_BOOLEAN, st.adapting, "adapt-paused", G_TYPE_BOOLEAN, st.adapt_paused, "method",
                           G_TYPE_STRING, method.c_str(), "plan", G_TYPE_STRING, st.plan.c_str(), nullptr);
  // The camera among its adaptation group's (a group of one without one),
  // and the frozen weights it reads from the process's shared copy.
  gst_structure_set(structure, "camera", G_TYPE_STRING, camera.c_str(), "adaptation-group", G_TYPE_STRING,
                    st.group.c_str(), "group-cameras", G_TYPE_INT64, st.group_cameras, "group-steps", G_TYPE_INT64,
                    st.group_steps, "group-peak-adapt-bytes", G_TYPE_INT64, st.group_peak_adapt_bytes,
                    "shared-weight-bytes", G_TYPE_INT64, st.shared_weight_bytes, "own-weight-bytes", G_TYPE_INT64,
                    st.own_weight_bytes, nullptr);
  return structure;
}

static void post_stats(GstEcotta* self) {
  auto* s = self->state;
  if (!s->engine) return;
  const auto st = s->engine->stats();
  gst_element_post_message(GST_ELEMENT(self),
                           gst_message_new_element(GST_OBJECT(self), stats_structure(st, s->engine->method(), s->camera)));
  // A new failure of the worker is worth a warning; the same one again is not.
  if (!st.last_error.empty() && st.last_error != s->last_worker_error) {
    s->last_worker_error = st.last_error;
    GST_ELEMENT_WARNING(self, LIBRARY, FAILED, ("Adaptation: %s", st.last_error.c_str()),
                        ("inference goes on with the last good adapted state"));
  }
}

static gboolean gst_ecotta_start(GstBaseTransform* trans) {
  auto* self = reinterpret_cast<GstEcotta*>(trans);
  auto* s = self->state;
  GST_OBJECT_LOCK(self);
  const Settings settings = s->settings;
  GST_OBJECT_UNLOCK(self);
  gchar* name = gst_object_get_name(GST_OBJECT(self));
  s->camera = name ? name : "";
  g_free(name);
  s->group = settings.adaptation_group;
  try {
    auto config = engine_config(settings);
    config.name = s->camera;
    auto engine = std::make_unique<ecotta::stream::Engine>(config);
    for (const auto& w : engine->take_warnings()) GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", w.c_str()), (nullptr));
    g_strfreev(s->labels);
    const auto& labels = engine->labels();
    s->labels = g_new0(gchar*, labels.size() + 1);
    for (size_t i = 0; i < labels.size(); ++i) s->labels[i] = g_strdup(labels[i].c_str());
    GST_OBJECT_LOCK(self);
    s->engine = std::move(engine);
    GST_OBJECT_UNLOCK(self);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Cannot start ecotta: %s", e.what()),
                      ("model='%s' method=%s", settings.model.c_str(),
                       ecotta::stream::method_names().at(static_cast<size_t>(settings.method)).c_str()));
    return FALSE;
  }
  s->last_stats_us = g_get_monotonic_time();
  s->last_worker_error.clear();
  return TRUE;
}

static gboolean gst_ecotta_stop(GstBaseTransform* trans) {
  auto* self = reinterpret_cast<GstEcotta*>(trans);
  auto* s = self->state;
  GST_OBJECT_LOCK(self);
  auto engine = std::move(s->engine);
  GST_OBJECT_UNLOCK(self);
  if (!engine) return TRUE;
  try {
    engine->stop();
  } catch (const std::exception& e) {
    GST_ELEMENT_WARNING(self, RESOURCE, WRITE, ("Could not save the adapted state: %s", e.what()), (nullptr));
  }
  const auto st = engine->stats();
  GST_OBJECT_LOCK(self);
  s->final_stats = st;
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

static gboolean gst_ecotta_sink_event(GstBaseTransform* trans, GstEvent* event) {
  auto* self = reinterpret_cast<GstEcotta*>(trans);
  if (GST_EVENT_TYPE(event) == GST_EVENT_EOS && self->state->engine) {
    self->state->engine->request_checkpoint();
    post_stats(self);
  }
  return GST_BASE_TRANSFORM_CLASS(gst_ecotta_parent_class)->sink_event(trans, event);
}

static void attach_metadata(GstEcotta* self, GstBuffer* buffer, const ecotta::stream::Prediction& p,
                            const GstVideoInfo* info, int64_t cap) {
  auto* s = self->state;
  auto* m = ecotta_buffer_add_meta(buffer);
  m->task = s->engine->segmentation() ? ECOTTA_TASK_SEGMENT : ECOTTA_TASK_CLASSIFY;
  m->frame = p.frame;
  m->class_id = p.class_id;
  const guint n = g_strv_length(s->labels);
  ecotta_meta_set_labels(m, n, s->labels);
  ecotta_meta_set_label(m, ecotta_meta_class_label(m, p.class_id));
  m->confidence = p.confidence;
  m->n_top = static_cast<guint>(std::min<size_t>(p.top.size(), ECOTTA_META_MAX_TOP));
  for (guint i = 0; i < m->n_top; ++i) m->top[i] = {p.top[i].first, p.top[i].second};
  m->reused = p.reused;
  m->entropy = p.entropy;
  if (!p.class_share.empty() && p.class_share.size() == n) ecotta_meta_set_class_share(m, p.class_share.data());
  if (!p.class_map.empty())
    ecotta_meta_set_class_map(m, static_cast<guint>(p.map_width), static_cast<guint>(p.map_height), p.class_map.data());
  m->view_x = static_cast<gint>(std::lround(p.view.x));
  m->view_y = static_cast<gint>(std::lround(p.view.y));
  m->view_width = static_cast<gint>(std::lround(p.view.width));
  m->view_height = static_cast<gint>(std::lround(p.view.height));
  ecotta_meta_set_method(m, s->engine->method().c_str());
  m->adapting = p.adapting;
  m->adapt_steps = static_cast<guint64>(p.adapt_steps);
  m->snapshot = p.snapshot;
  m->mean_entropy = p.mean_entropy;
  m->peak_adapt_bytes = p.peak_adapt_bytes;
  m->memory_cap = cap;
  ecotta_meta_set_camera(m, s->camera.c_str(), s->group.empty() ? nullptr : s->group.c_str());

  // The same result where any GStreamer application looks without our
  // header (DL Streamer's convention): a full-frame region with a param.
  auto* roi = gst_buffer_add_video_region_of_interest_meta(buffer, "ecotta", 0, 0, GST_VIDEO_INFO_WIDTH(info),
                                                           GST_VIDEO_INFO_HEIGHT(info));
  gst_video_region_of_interest_meta_add_param(
      roi, gst_structure_new("ecotta", "label", G_TYPE_STRING, m->label ? m->label : "", "label_id", G_TYPE_INT,
                             p.class_id, "confidence", G_TYPE_DOUBLE, static_cast<double>(p.confidence), "reused",
                             G_TYPE_BOOLEAN, p.reused, nullptr));
}

static GstFlowReturn gst_ecotta_transform_ip(GstBaseTransform* trans, GstBuffer* buffer) {
  auto* self = reinterpret_cast<GstEcotta*>(trans);
  auto* s = self->state;
  auto* filter = GST_VIDEO_FILTER(trans);
  if (!s->engine) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("ecotta received a frame before it was started"), (nullptr));
    return GST_FLOW_ERROR;
  }
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &filter->in_info, buffer, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Cannot map the video frame for reading"), (nullptr));
    return GST_FLOW_ERROR;
  }
  ecotta::stream::FrameView view;
  view.format = pixel_format(GST_VIDEO_FRAME_FORMAT(&frame));
  view.width = GST_VIDEO_FRAME_WIDTH(&frame);
  view.height = GST_VIDEO_FRAME_HEIGHT(&frame);
  for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES(&frame) && i < 3; ++i) {
    view.planes[i] = static_cast<const uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, i));
    view.strides[i] = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, i);
  }
  const auto& colorimetry = GST_VIDEO_INFO_COLORIMETRY(&filter->in_info);
  view.matrix = colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_BT709 ? ecotta::stream::YuvMatrix::Bt709
                                                                   : ecotta::stream::YuvMatrix::Bt601;
  view.full_range = colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;

  ecotta::stream::Prediction prediction;
  try {
    prediction = s->engine->process(view);
  } catch (const std::exception& e) {
    gst_video_frame_unmap(&frame);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Inference failed: %s", e.what()), (nullptr));
    return GST_FLOW_ERROR;
  }
  gst_video_frame_unmap(&frame);
  // What the worker has to say since the last frame (a new memory plan).
  for (const auto& w : s->engine->take_warnings())
    GST_ELEMENT_WARNING(self, RESOURCE, SETTINGS, ("%s", w.c_str()), (nullptr));
  for (const auto& n : s->engine->take_news()) GST_ELEMENT_INFO(self, RESOURCE, SETTINGS, ("%s", n.c_str()), (nullptr));
  GST_OBJECT_LOCK(self);
  const double interval = s->settings.stats_interval;
  const auto cap = static_cast<int64_t>(s->settings.memory_cap);
  GST_OBJECT_UNLOCK(self);
  attach_metadata(self, buffer, prediction, &filter->in_info, cap);
  const gint64 now = g_get_monotonic_time();
  if (interval > 0 && now - s->last_stats_us >= static_cast<gint64>(interval * 1e6)) {
    s->last_stats_us = now;
    post_stats(self);
  }
  return GST_FLOW_OK;
}

static void gst_ecotta_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = reinterpret_cast<GstEcotta*>(object);
  auto& st = self->state->settings;
  GST_OBJECT_LOCK(self);
  auto* engine = self->state->engine.get();
  switch (id) {
    case PROP_MODEL: st.model = g_value_get_string(value) ? g_value_get_string(value) : ""; break;
    case PROP_LABELS_FILE: st.labels_file = g_value_get_string(value) ? g_value_get_string(value) : ""; break;
    case PROP_ADAPT:
      st.adapt = g_value_get_boolean(value);
      if (engine) engine->set_adapt(st.adapt);
      break;
    case PROP_METHOD: st.method = g_value_get_enum(value); break;
    case PROP_MEMORY_CAP:
      st.memory_cap = g_value_get_uint64(value);
      if (engine) engine->set_memory_cap(static_cast<int64_t>(std::min<guint64>(st.memory_cap, G_MAXINT64)));
      break;
    case PROP_ADAPT_BATCH_SIZE: st.adapt_batch = g_value_get_int(value); break;
    case PROP_ADAPT_SAMPLE_INTERVAL:
      st.sample_interval = g_value_get_int(value);
      if (engine) engine->set_sample_interval(st.sample_interval);
      break;
    case PROP_LEARNING_RATE: st.learning_rate = g_value_get_double(value); break;
    case PROP_REG_WEIGHT: st.reg_weight = g_value_get_double(value); break;
    case PROP_ENTROPY_MARGIN: st.entropy_margin = g_value_get_double(value); break;
    case PROP_INFERENCE_INTERVAL:
      st.inference_interval = g_value_get_int(value);
      if (engine) engine->set_inference_interval(st.inference_interval);
      break;
    case PROP_THREADS: st.threads = g_value_get_int(value); break;
    case PROP_DEVICE: st.device = g_value_get_string(value) ? g_value_get_string(value) : "cpu"; break;
    case PROP_CHECKPOINT_LOCATION:
      st.checkpoint_location = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    case PROP_CHECKPOINT_INTERVAL:
      st.checkpoint_interval = g_value_get_double(value);
      if (engine) engine->set_checkpoint_interval(st.checkpoint_interval);
      break;
    case PROP_STATS_INTERVAL: st.stats_interval = g_value_get_double(value); break;
    case PROP_TOP_K: st.top_k = g_value_get_int(value); break;
    case PROP_ADAPTATION_GROUP:
      st.adaptation_group = g_value_get_string(value) ? g_value_get_string(value) : "";
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ecotta_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = reinterpret_cast<GstEcotta*>(object);
  auto* s = self->state;
  const auto& st = s->settings;
  GST_OBJECT_LOCK(self);
  const auto stats = [&] { return s->engine ? s->engine->stats() : s->final_stats; };
  switch (id) {
    case PROP_MODEL: g_value_set_string(value, st.model.c_str()); break;
    case PROP_LABELS_FILE: g_value_set_string(value, st.labels_file.c_str()); break;
    case PROP_ADAPT: g_value_set_boolean(value, st.adapt); break;
    case PROP_METHOD: g_value_set_enum(value, st.method); break;
    case PROP_MEMORY_CAP: g_value_set_uint64(value, st.memory_cap); break;
    case PROP_ADAPT_BATCH_SIZE: g_value_set_int(value, st.adapt_batch); break;
    case PROP_ADAPT_SAMPLE_INTERVAL: g_value_set_int(value, st.sample_interval); break;
    case PROP_LEARNING_RATE: g_value_set_double(value, st.learning_rate); break;
    case PROP_REG_WEIGHT: g_value_set_double(value, st.reg_weight); break;
    case PROP_ENTROPY_MARGIN: g_value_set_double(value, st.entropy_margin); break;
    case PROP_INFERENCE_INTERVAL: g_value_set_int(value, st.inference_interval); break;
    case PROP_THREADS: g_value_set_int(value, st.threads); break;
    case PROP_DEVICE: g_value_set_string(value, st.device.c_str()); break;
    case PROP_CHECKPOINT_LOCATION: g_value_set_string(value, st.checkpoint_location.c_str()); break;
    case PROP_CHECKPOINT_INTERVAL: g_value_set_double(value, st.checkpoint_interval); break;
    case PROP_STATS_INTERVAL: g_value_set_double(value, st.stats_interval); break;
    case PROP_TOP_K: g_value_set_int(value, st.top_k); break;
    case PROP_ADAPTATION_GROUP: g_value_set_string(value, st.adaptation_group.c_str()); break;
    case PROP_FRAMES: g_value_set_uint64(value, stats().frames); break;
    case PROP_ADAPT_STEPS: g_value_set_uint64(value, static_cast<guint64>(stats().adapt_steps)); break;
    case PROP_SKIPPED_STEPS: g_value_set_uint64(value, static_cast<guint64>(stats().skipped_steps)); break;
    case PROP_RESETS: g_value_set_uint64(value, static_cast<guint64>(stats().resets)); break;
    case PROP_PEAK_ADAPT_BYTES: g_value_set_uint64(value, static_cast<guint64>(stats().peak_adapt_bytes)); break;
    case PROP_MEAN_ENTROPY: g_value_set_double(value, stats().mean_entropy); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ecotta_finalize(GObject* object) {
  auto* self = reinterpret_cast<GstEcotta*>(object);
  delete self->state;
  self->state = nullptr;
  G_OBJECT_CLASS(gst_ecotta_parent_class)->finalize(object);
}

static void gst_ecotta_init(GstEcotta* self) {
  self->state = new State();
  self->state->settings.method = method_index("auto");
  // In place: the pixels pass untouched; only metadata is added.
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}

static void install_properties(GObjectClass* oc) {
  constexpr auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  constexpr auto ready = static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_READY);
  constexpr auto playing = static_cast<GParamFlags>(rw | GST_PARAM_MUTABLE_PLAYING);
  constexpr auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(
      oc, PROP_MODEL,
      g_param_spec_string("model", "Model", "Path of the model bundle (.ecotta file, see docs/model-bundle.md)", "",
                          ready));
  g_object_class_install_property(
      oc, PROP_LABELS_FILE,
      g_param_spec_string("labels-file", "Labels file",
                          "Text file with one class name a line, replacing the bundle's labels (same count)", "",
                          ready));
  g_object_class_install_property(
      oc, PROP_ADAPT,
      g_param_spec_boolean("adapt", "Adapt",
                           "Adapt the network to the scene while frames flow (can be toggled while playing; off: "
                           "predictions keep the last adapted state)",
                           TRUE, playing));
  g_object_class_install_property(
      oc, PROP_METHOD,
      g_param_spec_enum("method", "Method",
                        "Adaptation method: auto (the validated default for the model's task: ecotta for classifiers, "
                        "norm for segmenters), ecotta (meta networks, the frozen network untouched), tent, eata, "
                        "cotta, rotta, norm (robust statistics only) or source (no adaptation)",
                        ecotta_method_get_type(), method_index("auto"), ready));
  g_object_class_install_property(
      oc, PROP_MEMORY_CAP,
      g_param_spec_uint64("memory-cap", "Memory cap",
                          "Bytes one adaptation step may use (0: no cap). The engine plans within it: a smaller "
                          "batch, then fewer adapted parts, then statistics only. Can be changed while playing: "
                          "respected from the next step; a cap that fits no step then pauses adaptation",
                          0, G_MAXUINT64, 0, playing));
  g_object_class_install_property(
      oc, PROP_ADAPT_BATCH_SIZE,
      g_param_spec_int("adapt-batch-size", "Adaptation batch size",
                       "Samples per adaptation step, drawn from the pseudo-label-balanced sample buffer", 1, 512, 16,
                       ready));
  g_object_class_install_property(
      oc, PROP_ADAPT_SAMPLE_INTERVAL,
      g_param_spec_int("adapt-sample-interval", "Adaptation sample interval",
                       "Offer every Nth inferred frame to the sample buffer (neighbouring frames are near copies)",
                       1, 10000, 4, playing));
  g_object_class_install_property(
      oc, PROP_LEARNING_RATE,
      g_param_spec_double("learning-rate", "Learning rate",
                          "Learning rate of the method's optimizer (-1: the validated default for the model's task, "
                          "docs/elements/ecotta.md)",
                          -1, 10, -1, ready));
  g_object_class_install_property(
      oc, PROP_REG_WEIGHT,
      g_param_spec_double("reg-weight", "Regularizer weight",
                          "EcoTTA's self-distilled regularizer weight lambda (-1: the default, 0.5)", -1, 100, -1,
                          ready));
  g_object_class_install_property(
      oc, PROP_ENTROPY_MARGIN,
      g_param_spec_double("entropy-margin", "Entropy margin",
                          "Only samples with entropy below margin * ln(classes) train (EcoTTA, EATA; -1: the default, "
                          "0.4)",
                          -1, 1, -1, ready));
  g_object_class_install_property(
      oc, PROP_INFERENCE_INTERVAL,
      g_param_spec_int("inference-interval", "Inference interval",
                       "Infer every Nth frame and reuse the last result between (flagged as reused in the metadata)",
                       1, 10000, 1, playing));
  g_object_class_install_property(
      oc, PROP_THREADS,
      g_param_spec_int("threads", "Threads",
                       "Cores to use (0: all). Inference takes 1 intra-op thread, adaptation the rest (at least 1) "
                       "at a lower OS priority",
                       0, 1024, 0, ready));
  g_object_class_install_property(
      oc, PROP_DEVICE,
      g_param_spec_string("device", "Device",
                          "cpu, or cuda when the LibTorch build has it (otherwise an error at start)", "cpu", ready));
  g_object_class_install_property(
      oc, PROP_CHECKPOINT_LOCATION,
      g_param_spec_string("checkpoint-location", "Checkpoint location",
                          "File for the adapted state: restored at start when present and from the same method, "
                          "saved atomically every checkpoint-interval, at end of stream and on stop (empty: none)",
                          "", ready));
  g_object_class_install_property(
      oc, PROP_CHECKPOINT_INTERVAL,
      g_param_spec_double("checkpoint-interval", "Checkpoint interval",
                          "Seconds between periodic saves of the adapted state (0: only at end of stream and stop)",
                          0, 1e9, 60, playing));
  g_object_class_install_property(
      oc, PROP_STATS_INTERVAL,
      g_param_spec_double("stats-interval", "Statistics interval",
                          "Seconds between ecotta-stats element messages on the bus (0: only at end of stream)", 0,
                          1e9, 1, playing));
  g_object_class_install_property(
      oc, PROP_TOP_K,
      g_param_spec_int("top-k", "Top k", "Classes listed in the metadata per frame, best first (classification)", 1,
                       ECOTTA_META_MAX_TOP, 5, ready));
  g_object_class_install_property(
      oc, PROP_ADAPTATION_GROUP,
      g_param_spec_string("adaptation-group", "Adaptation group",
                          "ecotta elements of one process with the same group name share one adaptation thread and "
                          "one memory-cap (the smallest non-zero one set on them): one step at a time, for the "
                          "camera that needs it most, each ready camera at least one step in every 3N "
                          "(docs/multi-camera.md). Empty: adapt on a thread of its own. Elements of the same "
                          "model file share its frozen weights either way",
                          "", ready));
  g_object_class_install_property(
      oc, PROP_FRAMES, g_param_spec_uint64("frames", "Frames", "Frames processed", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      oc, PROP_ADAPT_STEPS,
      g_param_spec_uint64("adapt-steps", "Adaptation steps", "Adaptation steps taken", 0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      oc, PROP_SKIPPED_STEPS,
      g_param_spec_uint64("skipped-steps", "Skipped steps",
                          "Adaptation updates dropped because their loss, gradients or result were not finite", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      oc, PROP_RESETS,
      g_param_spec_uint64("resets", "Resets",
                          "Times adaptation went back to its starting state (collapse or repeated bad steps)", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      oc, PROP_PEAK_ADAPT_BYTES,
      g_param_spec_uint64("peak-adapt-bytes", "Peak adaptation bytes",
                          "Peak bytes of one adaptation step so far, counted for the adaptation thread alone", 0,
                          G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      oc, PROP_MEAN_ENTROPY,
      g_param_spec_double("mean-entropy", "Mean entropy",
                          "Running mean of the predictions' entropy / ln(classes), 0..1", 0, 1, 0, ro));
}

static void gst_ecotta_class_init(GstEcottaClass* klass) {
  auto* oc = G_OBJECT_CLASS(klass);
  auto* ec = GST_ELEMENT_CLASS(klass);
  auto* tc = GST_BASE_TRANSFORM_CLASS(klass);
  oc->set_property = gst_ecotta_set_property;
  oc->get_property = gst_ecotta_get_property;
  oc->finalize = gst_ecotta_finalize;
  install_properties(oc);
  gst_element_class_add_static_pad_template(ec, &sink_template);
  gst_element_class_add_static_pad_template(ec, &src_template);
  gst_element_class_set_static_metadata(
      ec, "ecotta test-time adaptive inference", "Filter/Analyzer/Video",
      "Classifies or segments every frame with a LibTorch network and adapts the network to the scene while the "
      "video flows (EcoTTA: frozen network, small meta networks trained online; or Tent, EATA, CoTTA, BN "
      "statistics). Attaches EcottaMeta and a full-frame GstVideoRegionOfInterestMeta; posts ecotta-stats messages",
      "ecotta");
  tc->start = gst_ecotta_start;
  tc->stop = gst_ecotta_stop;
  tc->sink_event = gst_ecotta_sink_event;
  // Our own transform_ip maps the frame read-only (GstVideoFilter's would
  // map it for writing, which can force a copy of read-only memory).
  tc->transform_ip = gst_ecotta_transform_ip;
  tc->transform_ip_on_passthrough = FALSE;
}
