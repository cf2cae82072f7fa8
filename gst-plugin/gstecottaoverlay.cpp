// ecottaoverlay: draws the result the `ecotta` element attached to a frame
// (EcottaMeta) onto that frame, in place. The GObject shell: properties,
// caps, mapping the frame; the drawing is OverlayRenderer's.
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

#include <exception>
#include <new>

#include "ecotta-meta.h"
#include "elements.h"
#include "overlay_renderer.h"

GST_DEBUG_CATEGORY_STATIC(gst_ecotta_overlay_debug);
#define GST_CAT_DEFAULT gst_ecotta_overlay_debug

using ecotta::overlay::FrameView;
using ecotta::overlay::OverlayOptions;
using ecotta::overlay::OverlayRenderer;

struct GstEcottaOverlay {
  GstVideoFilter parent;
  OverlayOptions* options;    // guarded by the object lock
  OverlayRenderer* renderer;  // streaming thread only (and start/stop)
};
struct GstEcottaOverlayClass {
  GstVideoFilterClass parent_class;
};

enum { PROP_0, PROP_ALPHA, PROP_SHOW_TOP_K, PROP_SHOW_ADAPTATION, PROP_FONT_DESC };

G_DEFINE_TYPE(GstEcottaOverlay, gst_ecotta_overlay, GST_TYPE_VIDEO_FILTER)
GST_ELEMENT_REGISTER_DEFINE(ecottaoverlay, "ecottaoverlay", GST_RANK_NONE, gst_ecotta_overlay_get_type())

#define GST_ECOTTA_OVERLAY(obj) (reinterpret_cast<GstEcottaOverlay*>(obj))

// The object lock for a scope.
struct ObjectLock {
  explicit ObjectLock(GstEcottaOverlay* o) : object(o) { GST_OBJECT_LOCK(object); }
  ~ObjectLock() { GST_OBJECT_UNLOCK(object); }
  ObjectLock(const ObjectLock&) = delete;
  ObjectLock& operator=(const ObjectLock&) = delete;
  GstEcottaOverlay* object;
};

// Packed 32-bit RGB only: the renderer writes 4-byte pixels in place.
#define OVERLAY_CAPS GST_VIDEO_CAPS_MAKE("{ BGRx, BGRA, RGBx, RGBA, xRGB, xBGR, ARGB, ABGR }")

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(OVERLAY_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(OVERLAY_CAPS));

static void gst_ecotta_overlay_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  auto* self = GST_ECOTTA_OVERLAY(object);
  if (!self->options) return;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_ALPHA:
      self->options->alpha = g_value_get_double(value);
      break;
    case PROP_SHOW_TOP_K:
      self->options->top_k = g_value_get_uint(value);
      break;
    case PROP_SHOW_ADAPTATION:
      self->options->show_adaptation = g_value_get_boolean(value);
      break;
    case PROP_FONT_DESC: {
      const gchar* font = g_value_get_string(value);
      try {
        self->options->font_desc = font && *font ? font : "Sans Bold 12";
      } catch (const std::exception& e) {
        GST_ERROR_OBJECT(self, "font-desc not set: %s", e.what());
      }
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_ecotta_overlay_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  auto* self = GST_ECOTTA_OVERLAY(object);
  if (!self->options) return;
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_ALPHA:
      g_value_set_double(value, self->options->alpha);
      break;
    case PROP_SHOW_TOP_K:
      g_value_set_uint(value, self->options->top_k);
      break;
    case PROP_SHOW_ADAPTATION:
      g_value_set_boolean(value, self->options->show_adaptation);
      break;
    case PROP_FONT_DESC:
      g_value_set_string(value, self->options->font_desc.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static gboolean gst_ecotta_overlay_start(GstBaseTransform* trans) {
  auto* self = GST_ECOTTA_OVERLAY(trans);
  if (!self->renderer || !self->options) {
    GST_ELEMENT_ERROR(self, RESOURCE, FAILED, ("ecottaoverlay could not create its renderer (out of memory)"),
                      (nullptr));
    return FALSE;
  }
  self->renderer->reset();  // a new stream starts a new entropy trend
  return TRUE;
}

// Frames without EcottaMeta go through untouched: hand the input on as it
// is instead of letting the base class copy a read-only buffer for nothing.
static GstFlowReturn gst_ecotta_overlay_prepare_output_buffer(GstBaseTransform* trans, GstBuffer* input,
                                                              GstBuffer** outbuf) {
  if (!ecotta_buffer_get_meta(input)) {
    *outbuf = input;
    return GST_FLOW_OK;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_ecotta_overlay_parent_class)->prepare_output_buffer(trans, input, outbuf);
}

static GstFlowReturn gst_ecotta_overlay_transform_ip(GstBaseTransform* trans, GstBuffer* buffer) {
  auto* self = GST_ECOTTA_OVERLAY(trans);
  auto* filter = GST_VIDEO_FILTER(trans);
  const EcottaMeta* meta = ecotta_buffer_get_meta(buffer);
  if (!meta) return GST_FLOW_OK;
  if (!filter->negotiated) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, ("ecottaoverlay received a frame before its caps were set"), (nullptr));
    return GST_FLOW_NOT_NEGOTIATED;
  }

  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &filter->in_info, buffer, GST_MAP_READWRITE)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("ecottaoverlay could not map a frame for writing"),
                      ("caps %dx%d, buffer of %" G_GSIZE_FORMAT " bytes", GST_VIDEO_INFO_WIDTH(&filter->in_info),
                       GST_VIDEO_INFO_HEIGHT(&filter->in_info), gst_buffer_get_size(buffer)));
    return GST_FLOW_ERROR;
  }

  GstFlowReturn ret = GST_FLOW_OK;
  try {
    OverlayOptions options;
    {
      ObjectLock lock(self);  // released even if the copy throws
      options = *self->options;
    }

    FrameView view;
    view.data = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0));
    view.width = GST_VIDEO_FRAME_WIDTH(&frame);
    view.height = GST_VIDEO_FRAME_HEIGHT(&frame);
    view.stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
    view.layout.r = GST_VIDEO_FRAME_COMP_POFFSET(&frame, GST_VIDEO_COMP_R);
    view.layout.g = GST_VIDEO_FRAME_COMP_POFFSET(&frame, GST_VIDEO_COMP_G);
    view.layout.b = GST_VIDEO_FRAME_COMP_POFFSET(&frame, GST_VIDEO_COMP_B);
    view.layout.a = GST_VIDEO_INFO_HAS_ALPHA(&frame.info) ? GST_VIDEO_FRAME_COMP_POFFSET(&frame, GST_VIDEO_COMP_A) : -1;

    self->renderer->set_options(options);
    self->renderer->draw(view, *meta);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("ecottaoverlay could not draw frame %" G_GUINT64_FORMAT, meta->frame),
                      ("%s", e.what()));
    ret = GST_FLOW_ERROR;
  } catch (...) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("ecottaoverlay could not draw frame %" G_GUINT64_FORMAT, meta->frame),
                      ("unknown error"));
    ret = GST_FLOW_ERROR;
  }
  gst_video_frame_unmap(&frame);
  return ret;
}

static void gst_ecotta_overlay_finalize(GObject* object) {
  auto* self = GST_ECOTTA_OVERLAY(object);
  delete self->renderer;
  delete self->options;
  G_OBJECT_CLASS(gst_ecotta_overlay_parent_class)->finalize(object);
}

static void gst_ecotta_overlay_class_init(GstEcottaOverlayClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_ecotta_overlay_debug, "ecottaoverlay", 0, "ecotta result overlay");

  gobject_class->set_property = gst_ecotta_overlay_set_property;
  gobject_class->get_property = gst_ecotta_overlay_get_property;
  gobject_class->finalize = gst_ecotta_overlay_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING);
  g_object_class_install_property(
      gobject_class, PROP_ALPHA,
      g_param_spec_double("alpha", "Class map opacity",
                          "Opacity of the segmentation class map blended over the frame "
                          "(0 = map not drawn, 1 = opaque palette colours)",
                          0.0, 1.0, 0.45, flags));
  g_object_class_install_property(
      gobject_class, PROP_SHOW_TOP_K,
      g_param_spec_uint("show-top-k", "Top-k bars",
                        "Classification: how many of the best classes to list with a probability bar under the "
                        "label (0 = none; at most the n_top the ecotta element attached)",
                        0, ECOTTA_META_MAX_TOP, 3, flags));
  g_object_class_install_property(
      gobject_class, PROP_SHOW_ADAPTATION,
      g_param_spec_boolean("show-adaptation", "Show adaptation panel",
                           "Draw the adaptation panel in the top-right corner: method, adapting or not, steps, "
                           "mean-entropy trend, adaptation memory against the cap",
                           TRUE, flags));
  g_object_class_install_property(
      gobject_class, PROP_FONT_DESC,
      g_param_spec_string("font-desc", "Font description",
                          "Pango font description of the overlay text, e.g. \"Sans Bold 12\" or \"Monospace 10\" "
                          "(the label line is drawn 1.3x larger, secondary lines 0.8x)",
                          "Sans Bold 12", flags));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "ecotta result overlay", "Filter/Effect/Video",
      "Draws the ecotta element's per-frame result (EcottaMeta) onto the video: label, confidence and top-k bars "
      "for classification, the blended class map with a legend for segmentation, and a panel with the test-time "
      "adaptation state (method, steps, entropy trend, memory). Frames without the meta pass through untouched.",
      "ecotta");

  trans_class->start = GST_DEBUG_FUNCPTR(gst_ecotta_overlay_start);
  trans_class->prepare_output_buffer = GST_DEBUG_FUNCPTR(gst_ecotta_overlay_prepare_output_buffer);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_ecotta_overlay_transform_ip);
}

static void gst_ecotta_overlay_init(GstEcottaOverlay* self) {
  // A bad_alloc must not escape into GObject: start() reports a missing renderer.
  self->options = nullptr;
  self->renderer = nullptr;
  try {
    self->options = new OverlayOptions();
    self->renderer = new OverlayRenderer();
  } catch (const std::exception& e) {
    GST_ERROR_OBJECT(self, "could not create the renderer: %s", e.what());
  }
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
