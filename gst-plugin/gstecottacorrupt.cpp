// ecottacorrupt: the project's corruption suite applied to live video, in
// place, on a schedule of conditions (docs/elements/ecottacorrupt.md). The
// per-frame logic is core/corrupt/frame_corruptor.h; this file is the
// GObject shell: properties, caps, the stream's clock and the messages.
#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include <opencv2/core.hpp>

#include "corrupt/condition_schedule.h"
#include "corrupt/frame_corruptor.h"
#include "elements.h"

GST_DEBUG_CATEGORY_STATIC(ecotta_corrupt_debug);
#define GST_CAT_DEFAULT ecotta_corrupt_debug

namespace {

namespace corrupt = ecotta::corrupt;

// What the properties hold; written from any thread, read by the streaming
// thread, all under the object lock.
struct Settings {
  std::string schedule_text = corrupt::kDefaultSchedule;
  // Shared and immutable, so the streaming thread takes it under the lock
  // without copying (nothing that can throw while the lock is held).
  std::shared_ptr<const corrupt::ConditionSchedule> schedule =
      std::make_shared<const corrupt::ConditionSchedule>(corrupt::ConditionSchedule::parse(corrupt::kDefaultSchedule));
  std::string schedule_error;  // why schedule_text was refused; empty when it parsed
  uint64_t seed = 0;
  uint64_t version = 1;   // bumped on every change, so the stream picks it up
  std::string condition;  // the condition of the last frame, "" before the first
};

// Streaming-thread state, reset on start.
struct Stream {
  std::optional<corrupt::FrameCorruptor> corruptor;
  uint64_t settings_version = 0;
  GstClockTime first_pts = GST_CLOCK_TIME_NONE;
  uint64_t frames = 0;
  double last_t = 0;
};

struct State {
  Settings settings;
  Stream stream;
};

enum { PROP_0, PROP_SCHEDULE, PROP_SEED, PROP_CONDITION, N_PROPERTIES };
GParamSpec* properties[N_PROPERTIES] = {};

}  // namespace

struct GstEcottaCorrupt {
  GstVideoFilter parent;
  State* state;  // C++ state: GObject does not run constructors on this struct
};
struct GstEcottaCorruptClass {
  GstVideoFilterClass parent_class;
};

G_DEFINE_TYPE(GstEcottaCorrupt, gst_ecotta_corrupt, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE(ecottacorrupt, "ecottacorrupt", GST_RANK_NONE, gst_ecotta_corrupt_get_type())

#define ECOTTA_CORRUPT(obj) (reinterpret_cast<GstEcottaCorrupt*>(obj))

// Packed 8-bit RGB in any byte order, with or without a fourth byte.
#define ECOTTA_CORRUPT_CAPS GST_VIDEO_CAPS_MAKE("{ RGB, BGR, RGBx, BGRx, xRGB, xBGR, RGBA, BGRA, ARGB, ABGR }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(ECOTTA_CORRUPT_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(ECOTTA_CORRUPT_CAPS));

static void gst_ecotta_corrupt_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  auto* self = ECOTTA_CORRUPT(object);
  Settings& s = self->state->settings;
  switch (id) {
    case PROP_SCHEDULE: {
      const gchar* text = g_value_get_string(value);
      const std::string spec = text ? text : "";
      std::shared_ptr<const corrupt::ConditionSchedule> parsed;
      std::string error;
      try {
        parsed = std::make_shared<const corrupt::ConditionSchedule>(corrupt::ConditionSchedule::parse(spec));
      } catch (const std::exception& e) {
        error = e.what();
        GST_WARNING_OBJECT(self, "property 'schedule': %s", e.what());
      }
      GST_OBJECT_LOCK(self);
      s.schedule_text = spec;
      s.schedule = std::move(parsed);
      s.schedule_error = error;
      ++s.version;
      GST_OBJECT_UNLOCK(self);
      break;
    }
    case PROP_SEED:
      GST_OBJECT_LOCK(self);
      s.seed = g_value_get_uint64(value);
      ++s.version;
      GST_OBJECT_UNLOCK(self);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
}

static void gst_ecotta_corrupt_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  auto* self = ECOTTA_CORRUPT(object);
  const Settings& s = self->state->settings;
  GST_OBJECT_LOCK(self);
  switch (id) {
    case PROP_SCHEDULE:
      g_value_set_string(value, s.schedule_text.c_str());
      break;
    case PROP_SEED:
      g_value_set_uint64(value, s.seed);
      break;
    case PROP_CONDITION:
      g_value_set_string(value, s.condition.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

// Posts the element error for a refused schedule; returns false if there is one.
static bool check_schedule(GstEcottaCorrupt* self) {
  GST_OBJECT_LOCK(self);
  const Settings& s = self->state->settings;
  const bool ok = s.schedule != nullptr;
  const std::string error = s.schedule_error, text = s.schedule_text;
  GST_OBJECT_UNLOCK(self);
  if (!ok)
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("ecottacorrupt property 'schedule': %s", error.c_str()),
                      ("schedule = \"%s\"", text.c_str()));
  return ok;
}

static gboolean gst_ecotta_corrupt_start(GstBaseTransform* trans) {
  auto* self = ECOTTA_CORRUPT(trans);
  self->state->stream = Stream{};
  GST_OBJECT_LOCK(self);
  self->state->settings.condition.clear();
  GST_OBJECT_UNLOCK(self);
  return check_schedule(self);
}

// Brings the corruptor up to date with the properties; false (error posted)
// when the schedule in force was refused.
static bool sync_settings(GstEcottaCorrupt* self) {
  Stream& stream = self->state->stream;
  GST_OBJECT_LOCK(self);
  const Settings& s = self->state->settings;
  const uint64_t version = s.version;
  const std::shared_ptr<const corrupt::ConditionSchedule> schedule = s.schedule;
  const uint64_t seed = s.seed;
  GST_OBJECT_UNLOCK(self);
  if (!schedule) return check_schedule(self);
  if (stream.settings_version != version || !stream.corruptor) {
    if (stream.corruptor) {
      stream.corruptor->set_schedule(*schedule);
      stream.corruptor->set_seed(seed);
    } else {
      stream.corruptor.emplace(*schedule, seed);
    }
    stream.settings_version = version;
  }
  return true;
}

// Seconds into the schedule: the buffer's PTS relative to the first buffer's;
// a buffer without PTS counts frames at the caps framerate.
static double schedule_time(GstEcottaCorrupt* self, GstClockTime pts) {
  Stream& stream = self->state->stream;
  const GstVideoInfo& info = GST_VIDEO_FILTER(self)->in_info;
  if (GST_CLOCK_TIME_IS_VALID(pts)) {
    if (!GST_CLOCK_TIME_IS_VALID(stream.first_pts)) stream.first_pts = pts;
    stream.last_t = pts >= stream.first_pts ? static_cast<double>(pts - stream.first_pts) / GST_SECOND : 0.0;
  } else if (GST_VIDEO_INFO_FPS_N(&info) > 0) {
    stream.last_t = static_cast<double>(stream.frames) * GST_VIDEO_INFO_FPS_D(&info) / GST_VIDEO_INFO_FPS_N(&info);
  }
  return stream.last_t;
}

static void announce(GstEcottaCorrupt* self, const corrupt::Condition& condition, GstClockTime pts, uint64_t frame) {
  const std::string text = corrupt::to_string(condition);
  std::string shown = text;  // swapped in under the lock: nothing there allocates
  GST_OBJECT_LOCK(self);
  self->state->settings.condition.swap(shown);
  GST_OBJECT_UNLOCK(self);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_CONDITION]);
  const GstSegment& segment = GST_BASE_TRANSFORM(self)->segment;
  const GstClockTime running_time =
      GST_CLOCK_TIME_IS_VALID(pts) ? gst_segment_to_running_time(&segment, GST_FORMAT_TIME, pts) : GST_CLOCK_TIME_NONE;
  GstStructure* s = gst_structure_new("ecotta-condition",                               //
                                      "name", G_TYPE_STRING, condition.name.c_str(),    //
                                      "severity", G_TYPE_INT, condition.severity,       //
                                      "condition", G_TYPE_STRING, text.c_str(),         //
                                      "pts", G_TYPE_UINT64, pts,                        //
                                      "running-time", G_TYPE_UINT64, running_time,      //
                                      "frame", G_TYPE_UINT64, static_cast<guint64>(frame), nullptr);
  GST_INFO_OBJECT(self, "condition %s from pts %" GST_TIME_FORMAT, text.c_str(), GST_TIME_ARGS(pts));
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_element(GST_OBJECT(self), s));
}

static GstFlowReturn gst_ecotta_corrupt_transform_frame_ip(GstVideoFilter* filter, GstVideoFrame* frame) {
  auto* self = ECOTTA_CORRUPT(filter);
  Stream& stream = self->state->stream;
  const GstClockTime pts = GST_BUFFER_PTS(frame->buffer);
  const uint64_t index = stream.frames;
  try {
    if (!sync_settings(self)) return GST_FLOW_ERROR;
    const GstVideoFormatInfo* finfo = frame->info.finfo;
    const corrupt::PixelLayout layout{static_cast<int>(GST_VIDEO_FORMAT_INFO_PSTRIDE(finfo, 0)),
                                      static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, GST_VIDEO_COMP_R)),
                                      static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, GST_VIDEO_COMP_G)),
                                      static_cast<int>(GST_VIDEO_FORMAT_INFO_POFFSET(finfo, GST_VIDEO_COMP_B))};
    cv::Mat plane(GST_VIDEO_FRAME_HEIGHT(frame), GST_VIDEO_FRAME_WIDTH(frame), CV_8UC(layout.bytes_per_pixel),
                  GST_VIDEO_FRAME_PLANE_DATA(frame, 0), static_cast<size_t>(GST_VIDEO_FRAME_PLANE_STRIDE(frame, 0)));
    const double t = schedule_time(self, pts);
    const gint64 started = g_get_monotonic_time();
    const auto result = stream.corruptor->process(plane, layout, t, index);
    GST_LOG_OBJECT(self, "frame %" G_GUINT64_FORMAT " t=%.3f s %s: %.2f ms", static_cast<guint64>(index), t,
                   corrupt::to_string(result.condition).c_str(), (g_get_monotonic_time() - started) / 1000.0);
    ++stream.frames;
    if (result.changed) announce(self, result.condition, pts, index);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("ecottacorrupt could not corrupt frame %" G_GUINT64_FORMAT ": %s",
                                             static_cast<guint64>(index), e.what()),
                      (nullptr));
    return GST_FLOW_ERROR;
  } catch (...) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED,
                      ("ecottacorrupt could not corrupt frame %" G_GUINT64_FORMAT, static_cast<guint64>(index)),
                      (nullptr));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static void gst_ecotta_corrupt_finalize(GObject* object) {
  delete ECOTTA_CORRUPT(object)->state;
  G_OBJECT_CLASS(gst_ecotta_corrupt_parent_class)->finalize(object);
}

static void gst_ecotta_corrupt_class_init(GstEcottaCorruptClass* klass) {
  GST_DEBUG_CATEGORY_INIT(ecotta_corrupt_debug, "ecottacorrupt", 0, "ecotta corruption schedule");
  auto* gobject_class = G_OBJECT_CLASS(klass);
  gobject_class->set_property = gst_ecotta_corrupt_set_property;
  gobject_class->get_property = gst_ecotta_corrupt_get_property;
  gobject_class->finalize = gst_ecotta_corrupt_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  properties[PROP_SCHEDULE] = g_param_spec_string(
      "schedule", "Schedule",
      "When which corruption applies: a comma list of condition[@severity|@from-to]:seconds, repeated "
      "(e.g. clean:3,fog@1-5:5,night@4:3); conditions are clean or a corruption name of `ecotta corrupt --list`, "
      "severity 1-5 (default 5), a from-to ramp steps evenly through its seconds. Time is the buffer PTS "
      "relative to the first buffer's. A bad schedule stops the stream with an error naming the entry",
      corrupt::kDefaultSchedule, flags);
  properties[PROP_SEED] = g_param_spec_uint64(
      "seed", "Seed",
      "Seed of the random corruptions (noise, snow, fog, ...); frame i uses a seed derived from it and i, so the "
      "same seed on the same input gives the same bytes",
      0, G_MAXUINT64, 0, flags);
  properties[PROP_CONDITION] = g_param_spec_string(
      "condition", "Condition",
      "The condition applied to the last frame, e.g. fog@3 or clean (empty before the first frame); an "
      "ecotta-condition element message is posted whenever it changes",
      "", static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties(gobject_class, N_PROPERTIES, properties);

  auto* element_class = GST_ELEMENT_CLASS(klass);
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "ecotta corruption schedule", "Filter/Effect/Video",
      "Applies the ecotta corruption suite (fog, snow, night, sensor noise, blur, JPEG, ... at severities 1-5) to "
      "video frames in place, following a schedule of conditions over time; clean frames pass unchanged",
      "ecotta");

  GST_BASE_TRANSFORM_CLASS(klass)->start = gst_ecotta_corrupt_start;
  GST_VIDEO_FILTER_CLASS(klass)->transform_frame_ip = gst_ecotta_corrupt_transform_frame_ip;
}

static void gst_ecotta_corrupt_init(GstEcottaCorrupt* self) {
  self->state = new State();
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
