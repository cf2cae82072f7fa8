// ecottametalog: writes one JSON line per frame from its EcottaMeta to a
// file, stdout and/or an MQTT broker, and passes the buffer on untouched.
// The GObject shell: JSON in meta_json.cpp, MQTT in mqtt_publisher.cpp.
#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <exception>
#include <memory>
#include <mutex>
#include <string>

#include "ecotta-meta.h"
#include "elements.h"
#include "meta_json.h"
#include "mqtt_publisher.h"

GST_DEBUG_CATEGORY_STATIC(ecotta_meta_log_debug);
#define GST_CAT_DEFAULT ecotta_meta_log_debug

namespace {

constexpr const char* kDefaultTopic = "ecotta/results";
constexpr guint kDefaultQueueSize = 1000;
// How long stopping waits for queued messages to reach a connected broker.
constexpr std::chrono::milliseconds kStopDrain{3000};

// Properties, read when the element starts (GST_OBJECT_LOCK).
struct Settings {
  std::string location;
  std::string mqtt_address;
  std::string mqtt_topic = kDefaultTopic;
  std::string mqtt_client_id;
  gint mqtt_qos = 0;
  guint mqtt_queue_size = kDefaultQueueSize;
  bool class_map = false;
};

// C++ state behind one pointer: GObject never runs constructors.
struct Impl {
  Settings settings;
  // Streaming state, set up in start() and torn down in stop().
  FILE* out = nullptr;
  bool out_is_stdout = false;
  std::string out_path;
  std::uint64_t frames = 0;
  std::atomic<std::uint64_t> messages{0};

  // The publisher is read by property getters from any thread.
  std::mutex publisher_mutex;
  std::shared_ptr<ecotta::gst::MqttPublisher> publisher;
  std::atomic<std::uint64_t> dropped_before{0};  // by publishers already stopped

  std::shared_ptr<ecotta::gst::MqttPublisher> current_publisher() {
    std::lock_guard<std::mutex> lock(publisher_mutex);
    return publisher;
  }
};

}  // namespace

struct GstEcottaMetaLog {
  GstBaseTransform parent;
  Impl* impl;
};
struct GstEcottaMetaLogClass {
  GstBaseTransformClass parent_class;
};

G_DEFINE_TYPE(GstEcottaMetaLog, gst_ecotta_meta_log, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(ecottametalog, "ecottametalog", GST_RANK_NONE, gst_ecotta_meta_log_get_type())

enum {
  PROP_0,
  PROP_LOCATION,
  PROP_MQTT_ADDRESS,
  PROP_MQTT_TOPIC,
  PROP_MQTT_CLIENT_ID,
  PROP_MQTT_QOS,
  PROP_MQTT_QUEUE_SIZE,
  PROP_CLASS_MAP,
  PROP_MESSAGES,
  PROP_MQTT_DROPPED,
  PROP_MQTT_QUEUED,
  PROP_MQTT_CONNECTED,
};

// Any caps: the element only reads metadata, so any video (or anything else) goes.
static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

#define SELF(obj) (reinterpret_cast<GstEcottaMetaLog*>(obj))

static void set_string(GObject* object, std::string& field, const GValue* value) {
  const gchar* text = g_value_get_string(value);
  GST_OBJECT_LOCK(object);
  field = text ? text : "";
  GST_OBJECT_UNLOCK(object);
}

static void gst_ecotta_meta_log_set_property(GObject* object, guint id, const GValue* value, GParamSpec* pspec) {
  Settings& s = SELF(object)->impl->settings;
  switch (id) {
    case PROP_LOCATION: set_string(object, s.location, value); break;
    case PROP_MQTT_ADDRESS: set_string(object, s.mqtt_address, value); break;
    case PROP_MQTT_TOPIC: set_string(object, s.mqtt_topic, value); break;
    case PROP_MQTT_CLIENT_ID: set_string(object, s.mqtt_client_id, value); break;
    case PROP_MQTT_QOS:
      GST_OBJECT_LOCK(object);
      s.mqtt_qos = g_value_get_int(value);
      GST_OBJECT_UNLOCK(object);
      break;
    case PROP_MQTT_QUEUE_SIZE:
      GST_OBJECT_LOCK(object);
      s.mqtt_queue_size = g_value_get_uint(value);
      GST_OBJECT_UNLOCK(object);
      break;
    case PROP_CLASS_MAP:
      GST_OBJECT_LOCK(object);
      s.class_map = g_value_get_boolean(value);
      GST_OBJECT_UNLOCK(object);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
}

static void gst_ecotta_meta_log_get_property(GObject* object, guint id, GValue* value, GParamSpec* pspec) {
  Impl& impl = *SELF(object)->impl;
  const Settings& s = impl.settings;
  GST_OBJECT_LOCK(object);
  switch (id) {
    case PROP_LOCATION: g_value_set_string(value, s.location.c_str()); break;
    case PROP_MQTT_ADDRESS: g_value_set_string(value, s.mqtt_address.c_str()); break;
    case PROP_MQTT_TOPIC: g_value_set_string(value, s.mqtt_topic.c_str()); break;
    case PROP_MQTT_CLIENT_ID: g_value_set_string(value, s.mqtt_client_id.c_str()); break;
    case PROP_MQTT_QOS: g_value_set_int(value, s.mqtt_qos); break;
    case PROP_MQTT_QUEUE_SIZE: g_value_set_uint(value, s.mqtt_queue_size); break;
    case PROP_CLASS_MAP: g_value_set_boolean(value, s.class_map); break;
    default: break;
  }
  GST_OBJECT_UNLOCK(object);
  switch (id) {
    case PROP_MESSAGES: g_value_set_uint64(value, impl.messages.load()); break;
    case PROP_MQTT_DROPPED: {
      const auto publisher = impl.current_publisher();
      g_value_set_uint64(value, impl.dropped_before.load() + (publisher ? publisher->dropped() : 0));
      break;
    }
    case PROP_MQTT_QUEUED: {
      const auto publisher = impl.current_publisher();
      g_value_set_uint(value, publisher ? static_cast<guint>(publisher->queued()) : 0);
      break;
    }
    case PROP_MQTT_CONNECTED: {
      const auto publisher = impl.current_publisher();
      g_value_set_boolean(value, publisher && publisher->connected());
      break;
    }
    case PROP_LOCATION:
    case PROP_MQTT_ADDRESS:
    case PROP_MQTT_TOPIC:
    case PROP_MQTT_CLIENT_ID:
    case PROP_MQTT_QOS:
    case PROP_MQTT_QUEUE_SIZE:
    case PROP_CLASS_MAP: break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec); break;
  }
}

static void close_output(Impl& impl) {
  if (impl.out && !impl.out_is_stdout) std::fclose(impl.out);
  else if (impl.out) std::fflush(impl.out);
  impl.out = nullptr;
  impl.out_is_stdout = false;
}

// Connects in the background; reports outages on the bus once each.
static bool start_publisher(GstEcottaMetaLog* self, const Settings& s) {
  std::string why;
  const auto address = ecotta::gst::parse_mqtt_address(s.mqtt_address, &why);
  if (!address) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Invalid mqtt-address \"%s\": %s.", s.mqtt_address.c_str(), why.c_str()),
                      ("expected host:port, e.g. 127.0.0.1:1883"));
    return false;
  }
  ecotta::gst::MqttSettings settings;
  settings.address = *address;
  settings.topic = s.mqtt_topic;
  settings.client_id = s.mqtt_client_id;
  settings.qos = s.mqtt_qos;
  settings.queue_size = s.mqtt_queue_size;
  const std::string where = s.mqtt_address;
  const guint queue_size = s.mqtt_queue_size;
  ecotta::gst::MqttEvents events;
  events.unreachable = [self, where, queue_size](const std::string& reason) {
    GST_ELEMENT_WARNING(self, RESOURCE, OPEN_WRITE, ("Cannot reach the MQTT broker at %s (mqtt-address): %s.", where.c_str(), reason.c_str()),
                        ("Buffers keep flowing. Up to %u messages wait for the broker (mqtt-queue-size), the oldest "
                         "dropped beyond that (counted in mqtt-dropped); reconnecting every few seconds.",
                         queue_size));
  };
  events.reachable = [self, where] {
    GST_ELEMENT_INFO(self, RESOURCE, OPEN_WRITE, ("Reached the MQTT broker at %s again.", where.c_str()), (nullptr));
  };
  try {
    auto publisher = std::make_shared<ecotta::gst::MqttPublisher>(std::move(settings), std::move(events));
    std::lock_guard<std::mutex> lock(self->impl->publisher_mutex);
    self->impl->publisher = std::move(publisher);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("Cannot publish to MQTT broker %s, topic \"%s\" (mqtt-topic): %s.", where.c_str(),
                                                 s.mqtt_topic.c_str(), e.what()),
                      (nullptr));
    return false;
  }
  return true;
}

static void stop_publisher(Impl& impl) {
  const auto publisher = impl.current_publisher();
  if (!publisher) return;
  publisher->stop(kStopDrain);  // not the streaming thread: a bounded wait for the last messages
  std::lock_guard<std::mutex> lock(impl.publisher_mutex);
  impl.dropped_before += publisher->dropped();
  impl.publisher.reset();
}

static gboolean gst_ecotta_meta_log_start(GstBaseTransform* base) {
  auto* self = SELF(base);
  Impl& impl = *self->impl;
  GST_OBJECT_LOCK(self);
  const Settings s = impl.settings;
  GST_OBJECT_UNLOCK(self);
  impl.frames = 0;
  impl.messages = 0;
  impl.dropped_before = 0;
  if (!s.location.empty()) {
    impl.out = std::fopen(s.location.c_str(), "w");  // truncates: one run, one file
    if (!impl.out) {
      const int error = errno;
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("Could not open \"%s\" for writing (location): %s.", s.location.c_str(), g_strerror(error)),
                        ("does the folder exist, and may this process write there?"));
      return FALSE;
    }
    impl.out_path = s.location;
  } else if (s.mqtt_address.empty()) {
    impl.out = stdout;
    impl.out_is_stdout = true;
    impl.out_path = "stdout";
  }
  if (!s.mqtt_address.empty() && !start_publisher(self, s)) {
    close_output(impl);
    return FALSE;
  }
  return TRUE;
}

static gboolean gst_ecotta_meta_log_stop(GstBaseTransform* base) {
  Impl& impl = *SELF(base)->impl;
  close_output(impl);
  try {
    stop_publisher(impl);
  } catch (const std::exception& e) {
    GST_WARNING_OBJECT(base, "stopping the MQTT publisher: %s", e.what());
  }
  return TRUE;
}

static GstFlowReturn gst_ecotta_meta_log_transform_ip(GstBaseTransform* base, GstBuffer* buffer) {
  auto* self = SELF(base);
  Impl& impl = *self->impl;
  try {
    const EcottaMeta* meta = ecotta_buffer_get_meta(buffer);
    std::optional<std::uint64_t> pts;
    if (GST_BUFFER_PTS_IS_VALID(buffer)) pts = GST_BUFFER_PTS(buffer);
    GST_OBJECT_LOCK(self);
    const bool class_map = impl.settings.class_map;
    GST_OBJECT_UNLOCK(self);
    std::string line = ecotta::gst::frame_line(meta, impl.frames++, pts, class_map);
    if (impl.out) {
      // Flushed per line so a reader (tail -f, a log shipper) sees each frame at once.
      const bool ok = std::fwrite(line.data(), 1, line.size(), impl.out) == line.size() &&
                      std::fputc('\n', impl.out) != EOF && std::fflush(impl.out) == 0;
      if (!ok) {
        const int error = errno;
        GST_ELEMENT_ERROR(self, RESOURCE, WRITE, ("Could not write to \"%s\" (location): %s.", impl.out_path.c_str(), g_strerror(error)),
                          (nullptr));
        return GST_FLOW_ERROR;
      }
    }
    if (const auto publisher = impl.current_publisher()) publisher->publish(std::move(line));  // never blocks
    ++impl.messages;
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not log the frame's result: %s.", e.what()), (nullptr));
    return GST_FLOW_ERROR;
  }
  return GST_FLOW_OK;
}

static void gst_ecotta_meta_log_finalize(GObject* object) {
  auto* self = SELF(object);
  if (self->impl) {
    close_output(*self->impl);
    stop_publisher(*self->impl);
  }
  delete self->impl;
  self->impl = nullptr;
  G_OBJECT_CLASS(gst_ecotta_meta_log_parent_class)->finalize(object);
}

static void gst_ecotta_meta_log_class_init(GstEcottaMetaLogClass* klass) {
  auto* gobject_class = G_OBJECT_CLASS(klass);
  auto* element_class = GST_ELEMENT_CLASS(klass);
  auto* base_class = GST_BASE_TRANSFORM_CLASS(klass);
  GST_DEBUG_CATEGORY_INIT(ecotta_meta_log_debug, "ecottametalog", 0, "ecotta per-frame JSON logger");

  gobject_class->set_property = gst_ecotta_meta_log_set_property;
  gobject_class->get_property = gst_ecotta_meta_log_get_property;
  gobject_class->finalize = gst_ecotta_meta_log_finalize;

  const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const auto ro = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "File to write one JSON line per frame to (truncated at start, flushed every line). "
                          "Empty: stdout, unless mqtt-address is set",
                          "", rw));
  g_object_class_install_property(
      gobject_class, PROP_MQTT_ADDRESS,
      g_param_spec_string("mqtt-address", "MQTT address",
                          "MQTT broker to publish every line to, as host:port (port 1883 when left out; "
                          "[v6-address]:port). Empty: no MQTT",
                          "", rw));
  g_object_class_install_property(gobject_class, PROP_MQTT_TOPIC,
                                  g_param_spec_string("mqtt-topic", "MQTT topic",
                                                      "Topic the lines are published on (no + or # wildcards)",
                                                      kDefaultTopic, rw));
  g_object_class_install_property(
      gobject_class, PROP_MQTT_CLIENT_ID,
      g_param_spec_string("mqtt-client-id", "MQTT client id",
                          "Client id given to the broker. Empty: a random one (a clean session either way)", "", rw));
  g_object_class_install_property(
      gobject_class, PROP_MQTT_QOS,
      g_param_spec_int("mqtt-qos", "MQTT QoS",
                       "MQTT quality of service: 0 at most once, 1 at least once (the broker acknowledges each message)",
                       0, 1, 0, rw));
  g_object_class_install_property(
      gobject_class, PROP_MQTT_QUEUE_SIZE,
      g_param_spec_uint("mqtt-queue-size", "MQTT queue size",
                        "Messages kept while the broker is away or slow; when full the oldest is dropped "
                        "(counted in mqtt-dropped). Buffers never wait for the broker",
                        1, 10000000, kDefaultQueueSize, rw));
  g_object_class_install_property(
      gobject_class, PROP_CLASS_MAP,
      g_param_spec_boolean("class-map", "Class map",
                           "Segmentation: add the class map to each line (\"class_map\": width, height, the view "
                           "it covers in frame pixels, base64 of one class byte per pixel, row-major), for back "
                           "ends that score or redraw it. About 5.5 KB a line for a 64x64 map",
                           FALSE, static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                           GST_PARAM_MUTABLE_PLAYING)));
  g_object_class_install_property(
      gobject_class, PROP_MESSAGES,
      g_param_spec_uint64("messages", "Messages",
                          "Lines produced since the element started: one per buffer, written to the file or stdout "
                          "and/or queued for MQTT",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_MQTT_DROPPED,
      g_param_spec_uint64("mqtt-dropped", "MQTT dropped",
                          "Messages that never reached the broker: pushed out of a full queue, lost with a "
                          "connection (QoS 0), or still undelivered when the element stopped",
                          0, G_MAXUINT64, 0, ro));
  g_object_class_install_property(
      gobject_class, PROP_MQTT_QUEUED,
      g_param_spec_uint("mqtt-queued", "MQTT queued",
                        "Messages not yet sent to the broker: waiting in the queue, or handed to the MQTT library "
                        "and not yet written (QoS 0) or acknowledged (QoS 1)",
                        0, G_MAXUINT, 0, ro));
  g_object_class_install_property(gobject_class, PROP_MQTT_CONNECTED,
                                  g_param_spec_boolean("mqtt-connected", "MQTT connected",
                                                       "An MQTT session with the broker is up right now", FALSE, ro));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "EcoTTA result logger", "Filter/Metadata/Video",
      "Writes each frame's ecotta result (EcottaMeta) as one JSON line to a file, stdout and/or an MQTT broker, "
      "and passes the frame on untouched",
      "ecotta");

  base_class->start = GST_DEBUG_FUNCPTR(gst_ecotta_meta_log_start);
  base_class->stop = GST_DEBUG_FUNCPTR(gst_ecotta_meta_log_stop);
  base_class->transform_ip = GST_DEBUG_FUNCPTR(gst_ecotta_meta_log_transform_ip);
  base_class->transform_ip_on_passthrough = TRUE;
}

static void gst_ecotta_meta_log_init(GstEcottaMetaLog* self) {
  self->impl = new Impl();
  // Reads the meta only: the buffer goes on as it came, never copied.
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
  gst_base_transform_set_in_place(GST_BASE_TRANSFORM(self), TRUE);
}
