// ecottametalog: one JSON line per buffer from its EcottaMeta, buffers
// untouched, to a file, stdout or a real mosquitto broker on 127.0.0.1,
// and a broker that is down or silent never holds buffers up.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gst/check/gstharness.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ecotta-meta.h"
#include "gst_test_support.h"
#include "temp_dir.h"

extern char** environ;

namespace {

using nlohmann::json;
using ecotta::testing::TempDir;
using Clock = std::chrono::steady_clock;

constexpr const char* kCaps = "video/x-raw,format=GRAY8,width=4,height=2,framerate=30/1";
constexpr gsize kFrameBytes = 8;

// ---- buffers and metas --------------------------------------------------

GstBuffer* make_buffer(guint index, bool with_pts = true) {
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, kFrameBytes, nullptr);
  guint8 data[kFrameBytes];
  for (gsize i = 0; i < kFrameBytes; ++i) data[i] = static_cast<guint8>(index * 7 + i);
  gst_buffer_fill(buffer, 0, data, kFrameBytes);
  if (with_pts) {
    GST_BUFFER_PTS(buffer) = index * GST_SECOND / 30;
    GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
  }
  return buffer;
}

const char* const kLabels[] = {"T-shirt", "Trouser", "Pullover", "Dress"};

EcottaMeta* add_classify_meta(GstBuffer* buffer, guint64 frame) {
  EcottaMeta* m = ecotta_buffer_add_meta(buffer);
  m->task = ECOTTA_TASK_CLASSIFY;
  m->frame = frame;
  ecotta_meta_set_labels(m, 4, kLabels);
  m->class_id = 2;
  ecotta_meta_set_label(m, "Pullover");
  m->confidence = 0.75f;
  m->n_top = 2;
  m->top[0] = {2, 0.75f};
  m->top[1] = {0, 0.125f};
  m->reused = frame % 2 == 1;
  m->entropy = 0.25f;
  m->mean_entropy = 0.5f;
  ecotta_meta_set_method(m, "ecotta");
  m->adapting = TRUE;
  m->adapt_steps = 40 + frame;
  m->snapshot = 3;
  m->peak_adapt_bytes = 123456789012LL;
  m->memory_cap = 1 << 20;
  return m;
}

EcottaMeta* add_segment_meta(GstBuffer* buffer, guint64 frame) {
  EcottaMeta* m = ecotta_buffer_add_meta(buffer);
  m->task = ECOTTA_TASK_SEGMENT;
  m->frame = frame;
  ecotta_meta_set_labels(m, 4, kLabels);
  const float share[] = {0.5f, 0.25f, 0.125f, 0.125f};
  ecotta_meta_set_class_share(m, share);
  const guint8 map[] = {0, 0, 1, 2, 0, 0, 1, 3};
  ecotta_meta_set_class_map(m, 4, 2, map);
  m->class_id = 0;
  ecotta_meta_set_label(m, "T-shirt");
  m->confidence = 0.5f;
  ecotta_meta_set_method(m, "tent");
  m->adapt_steps = 7;
  m->peak_adapt_bytes = 2048;
  return m;
}

// ---- the element in a harness ------------------------------------------

struct Harness {
  GstHarness* h = nullptr;
  GstBus* bus = gst_bus_new();

  // Properties are set before the harness starts the element.
  explicit Harness(const std::function<void(GstElement*)>& configure) {
    ecotta::test_support::init_gstreamer();
    GstElement* element = gst_element_factory_make("ecottametalog", nullptr);
    if (!element) throw std::runtime_error("ecottametalog not found: is GST_PLUGIN_PATH set to build/gst-plugin?");
    configure(element);
    gst_element_set_bus(element, bus);
    h = gst_harness_new_with_element(element, "sink", "src");
    gst_object_unref(element);
    gst_harness_set_src_caps_str(h, kCaps);
  }
  ~Harness() {
    if (h) gst_harness_teardown(h);
    gst_object_unref(bus);
  }
  GstElement* element() const { return h->element; }
  // Stops the element (flushes the file, drains MQTT) but keeps it for reading properties.
  void stop() { gst_element_set_state(h->element, GST_STATE_NULL); }

  guint64 uint64_property(const char* name) const {
    guint64 value = 0;
    g_object_get(h->element, name, &value, nullptr);
    return value;
  }
  bool bool_property(const char* name) const {
    gboolean value = FALSE;
    g_object_get(h->element, name, &value, nullptr);
    return value;
  }

  void push(GstBuffer* buffer) { ASSERT_EQ(gst_harness_push(h, buffer), GST_FLOW_OK); }
  void push_plain(guint first, guint count) {
    for (guint i = first; i < first + count; ++i) push(make_buffer(i));
  }
  void push_classified(guint first, guint count) {
    for (guint i = first; i < first + count; ++i) {
      GstBuffer* buffer = make_buffer(i);
      add_classify_meta(buffer, i);
      push(buffer);
    }
  }
  void drop_output() {
    while (GstBuffer* b = gst_harness_try_pull(h)) gst_buffer_unref(b);
  }

  // The first message of `type` within `timeout`, its text; empty if none.
  std::string wait_message(GstMessageType type, std::chrono::seconds timeout) {
    GstMessage* message = gst_bus_timed_pop_filtered(bus, GST_SECOND * timeout.count(), type);
    if (!message) return "";
    GError* error = nullptr;
    gchar* debug = nullptr;
    if (type == GST_MESSAGE_WARNING) gst_message_parse_warning(message, &error, &debug);
    else if (type == GST_MESSAGE_INFO) gst_message_parse_info(message, &error, &debug);
    else gst_message_parse_error(message, &error, &debug);
    std::string text = error ? error->message : "?";
    if (debug) text += std::string(" | ") + debug;
    g_clear_error(&error);
    g_free(debug);
    gst_message_unref(message);
    return text;
  }
};

std::vector<json> read_lines(const std::string& path) {
  std::vector<json> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line));  // throws (fails the test) on bad JSON
  return lines;
}

// ---- processes: the broker and mosquitto_sub ---------------------------

class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::string& output_path) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      pid_ = -1;
      ADD_FAILURE() << "cannot start " << argv[0] << ": " << g_strerror(rc);
    }
  }
  ~Process() { kill_now(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool running() const { return pid_ > 0; }

  // True when it exited by itself within `timeout`.
  bool wait_exit(std::chrono::milliseconds timeout) {
    const auto end = Clock::now() + timeout;
    while (pid_ > 0) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return true;
      }
      if (Clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void kill_now() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    if (!wait_exit(std::chrono::seconds(5))) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A loopback port nobody listens on right now.
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t length = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  close(fd);
  return ntohs(addr.sin_port);
}

bool port_accepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Debian's mosquitto on 127.0.0.1:port, killed on destruction.
struct Broker {
  std::unique_ptr<Process> process;
  Broker(const TempDir& dir, int port) {
    const std::string config = dir.file("broker-" + std::to_string(port) + ".conf");
    std::ofstream(config) << "listener " << port << " 127.0.0.1\nallow_anonymous true\n";
    process = std::make_unique<Process>(std::vector<std::string>{"/usr/sbin/mosquitto", "-c", config},
                                        dir.file("broker.log"));
    EXPECT_TRUE(wait_until([&] { return port_accepts(port); }, std::chrono::seconds(10)))
        << "mosquitto did not open port " << port << ": " << read_file(dir.file("broker.log"));
  }
};

// mosquitto_sub on `topic`, ready once it has its SUBACK; `count` > 0: it
// exits after that many messages.
struct Subscriber {
  std::string output;
  std::unique_ptr<Process> process;
  Subscriber(const TempDir& dir, int port, const std::string& topic, int count, int qos = 0)
      : output(dir.file("sub-" + std::to_string(port) + ".txt")) {
    std::vector<std::string> argv = {"/usr/bin/stdbuf", "-oL", "/usr/bin/mosquitto_sub", "-d", "-h", "127.0.0.1",
                                     "-p", std::to_string(port), "-t", topic, "-q", std::to_string(qos)};
    if (count > 0) {
      argv.push_back("-C");
      argv.push_back(std::to_string(count));
    }
    process = std::make_unique<Process>(argv, output);
    EXPECT_TRUE(wait_until([&] { return read_file(output).find("Subscribed (mid") != std::string::npos; },
                           std::chrono::seconds(10)))
        << "mosquitto_sub did not subscribe: " << read_file(output);
  }
  // The payloads received so far (mosquitto_sub's debug lines left out).
  std::vector<json> messages() const {
    std::vector<json> out;
    std::istringstream in(read_file(output));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty() && line.front() == '{') out.push_back(json::parse(line));
    return out;
  }
  std::set<guint64> frames() const {
    std::set<guint64> out;
    for (const auto& m : messages()) out.insert(m.at("frame").get<guint64>());
    return out;
  }
};

// ---- file output -------------------------------------------------------

TEST(EcottaMetaLog, ClassificationMetaGivesOneLinePerBufferWithItsFields) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  Harness h([&](GstElement* e) { g_object_set(e, "location", path.c_str(), nullptr); });
  h.push_classified(10, 3);
  EXPECT_EQ(h.uint64_property("messages"), 3u);
  // Flushed per line: readable before the element stops.
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  for (guint i = 0; i < 3; ++i) {
    const json& j = lines[i];
    const guint frame = 10 + i;
    EXPECT_EQ(j.at("frame"), frame);
    EXPECT_EQ(j.at("pts"), static_cast<guint64>(frame * GST_SECOND / 30));
    EXPECT_EQ(j.at("task"), "classify");
    EXPECT_EQ(j.at("class_id"), 2);
    EXPECT_EQ(j.at("label"), "Pullover");
    EXPECT_DOUBLE_EQ(j.at("confidence").get<double>(), 0.75);
    ASSERT_EQ(j.at("top").size(), 2u);
    EXPECT_EQ(j.at("top")[0], json({{"class_id", 2}, {"label", "Pullover"}, {"score", 0.75}}));
    EXPECT_EQ(j.at("top")[1], json({{"class_id", 0}, {"label", "T-shirt"}, {"score", 0.125}}));
    EXPECT_FALSE(j.contains("class_share"));
    EXPECT_FALSE(j.contains("result"));
    EXPECT_EQ(j.at("reused"), frame % 2 == 1);
    EXPECT_DOUBLE_EQ(j.at("entropy").get<double>(), 0.25);
    EXPECT_EQ(j.at("method"), "ecotta");
    EXPECT_EQ(j.at("adapting"), true);
    EXPECT_EQ(j.at("adapt_steps"), 40u + frame);
    EXPECT_EQ(j.at("snapshot"), 3u);
    EXPECT_EQ(j.at("peak_adapt_bytes"), 123456789012LL);
    EXPECT_EQ(j.at("memory_cap"), 1 << 20);
  }
}

TEST(EcottaMetaLog, FloatsAreWrittenAsTheirShortestDecimal) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  Harness h([&](GstElement* e) { g_object_set(e, "location", path.c_str(), nullptr); });
  GstBuffer* buffer = make_buffer(0);
  add_classify_meta(buffer, 0)->confidence = 0.9f;
  h.push(buffer);
  h.stop();
  EXPECT_NE(read_file(path).find("\"confidence\":0.9,"), std::string::npos) << read_file(path);
}

TEST(EcottaMetaLog, SegmentationMetaGivesClassShareAndTheDominantClass) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  Harness h([&](GstElement* e) { g_object_set(e, "location", path.c_str(), nullptr); });
  GstBuffer* buffer = make_buffer(5);
  add_segment_meta(buffer, 5);
  h.push(buffer);
  h.stop();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 1u);
  const json& j = lines[0];
  EXPECT_EQ(j.at("frame"), 5);
  EXPECT_EQ(j.at("task"), "segment");
  EXPECT_EQ(j.at("class_id"), 0);
  EXPECT_EQ(j.at("label"), "T-shirt");
  EXPECT_DOUBLE_EQ(j.at("confidence").get<double>(), 0.5);
  EXPECT_EQ(j.at("class_share"), json({{"T-shirt", 0.5}, {"Trouser", 0.25}, {"Pullover", 0.125}, {"Dress", 0.125}}));
  EXPECT_FALSE(j.contains("top"));
  EXPECT_EQ(j.at("method"), "tent");
  EXPECT_EQ(j.at("reused"), false);
  EXPECT_EQ(j.at("adapt_steps"), 7);
  EXPECT_EQ(j.at("peak_adapt_bytes"), 2048);
  EXPECT_FALSE(j.contains("class_map"));  // only when asked for
}

TEST(EcottaMetaLog, ClassMapPropertyAddsTheMapItsViewAndBase64Bytes) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  Harness h([&](GstElement* e) { g_object_set(e, "location", path.c_str(), "class-map", TRUE, nullptr); });
  GstBuffer* buffer = make_buffer(5);
  EcottaMeta* m = add_segment_meta(buffer, 5);
  m->view_x = -8;
  m->view_y = 0;
  m->view_width = 96;
  m->view_height = 48;
  h.push(buffer);
  h.push(make_buffer(6));  // no meta: no map, no error
  h.stop();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  const json& map = lines[0].at("class_map");
  EXPECT_EQ(map.at("width"), 4);
  EXPECT_EQ(map.at("height"), 2);
  EXPECT_EQ(map.at("view"), json({-8, 0, 96, 48}));
  gsize n = 0;
  guchar* bytes = g_base64_decode(map.at("data").get<std::string>().c_str(), &n);
  EXPECT_EQ(std::vector<guint8>(bytes, bytes + n), (std::vector<guint8>{0, 0, 1, 2, 0, 0, 1, 3}));
  g_free(bytes);
  EXPECT_FALSE(lines[1].contains("class_map"));
}

TEST(EcottaMetaLog, FrameWithoutMetaGetsALineWithResultNull) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  Harness h([&](GstElement* e) { g_object_set(e, "location", path.c_str(), nullptr); });
  h.push(make_buffer(0, /*with_pts=*/false));
  GstBuffer* with_meta = make_buffer(1);
  add_classify_meta(with_meta, 1);
  h.push(with_meta);
  h.push(make_buffer(2));
  h.stop();
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], json({{"frame", 0}, {"pts", nullptr}, {"result", nullptr}}));
  EXPECT_EQ(lines[1].at("label"), "Pullover");
  // The element's own buffer count when there is no meta.
  EXPECT_EQ(lines[2], json({{"frame", 2}, {"pts", 2 * GST_SECOND / 30}, {"result", nullptr}}));
}

TEST(EcottaMetaLog, BuffersPassThroughUnchangedAndInOrder) {
  TempDir dir;
  Harness h([&](GstElement* e) { g_object_set(e, "location", dir.file("out.jsonl").c_str(), nullptr); });
  std::vector<GstBuffer*> sent;
  for (guint i = 0; i < 20; ++i) {
    GstBuffer* buffer = make_buffer(i, i != 3);
    if (i % 3 == 0) add_segment_meta(buffer, i);
    else if (i % 3 == 1) add_classify_meta(buffer, i);
    sent.push_back(buffer);
    h.push(gst_buffer_ref(buffer));
  }
  for (guint i = 0; i < 20; ++i) {
    GstBuffer* out = gst_harness_pull(h.h);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(out, sent[i]) << "in place: the very same buffer, in order";
    EXPECT_EQ(GST_BUFFER_PTS(out), GST_BUFFER_PTS(sent[i]));
    // Compared with a fresh copy of what was made, not with the object itself.
    GstBuffer* expected = make_buffer(i, i != 3);
    guint8 data[kFrameBytes];
    gst_buffer_extract(expected, 0, data, kFrameBytes);
    EXPECT_EQ(gst_buffer_get_size(out), kFrameBytes);
    EXPECT_EQ(gst_buffer_memcmp(out, 0, data, kFrameBytes), 0);
    EXPECT_EQ(GST_BUFFER_PTS(out), GST_BUFFER_PTS(expected));
    EXPECT_EQ(GST_BUFFER_DURATION(out), GST_BUFFER_DURATION(expected));
    EXPECT_EQ(ecotta_buffer_get_meta(out) != nullptr, i % 3 != 2);
    gst_buffer_unref(expected);
    gst_buffer_unref(out);
    gst_buffer_unref(sent[i]);
  }
  EXPECT_EQ(gst_harness_buffers_in_queue(h.h), 0u);
}

TEST(EcottaMetaLog, WritesToStdoutWithoutLocationOrMqtt) {
  TempDir dir;
  const std::string path = dir.file("stdout.txt");
  std::fflush(stdout);
  const int saved = dup(1);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  dup2(fd, 1);
  close(fd);
  {
    Harness h([](GstElement*) {});
    h.push_classified(0, 2);
    h.stop();
  }
  std::fflush(stdout);
  dup2(saved, 1);
  close(saved);
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1].at("frame"), 1);
}

TEST(EcottaMetaLog, FileIsTruncatedAtStart) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  std::ofstream(path) << "an old run\nthat must go\n";
  Harness h([&](GstElement* e) { g_object_set(e, "location", path.c_str(), nullptr); });
  h.push_plain(0, 1);
  h.stop();
  EXPECT_EQ(read_lines(path).size(), 1u);
}

TEST(EcottaMetaLog, LocationInAMissingFolderIsAnErrorNamingThePath) {
  ecotta::test_support::init_gstreamer();
  const std::string path = "/nonexistent-ecotta-folder/out.jsonl";
  const std::string error =
      ecotta::test_support::run_pipeline("videotestsrc num-buffers=3 ! ecottametalog location=" + path + " ! fakesink");
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("location"), std::string::npos) << error;
}

TEST(EcottaMetaLog, MalformedMqttAddressIsAnErrorNamingTheProperty) {
  ecotta::test_support::init_gstreamer();
  const std::string error = ecotta::test_support::run_pipeline(
      "videotestsrc num-buffers=3 ! ecottametalog mqtt-address=127.0.0.1:notaport ! fakesink");
  EXPECT_NE(error.find("mqtt-address"), std::string::npos) << error;
  EXPECT_NE(error.find("notaport"), std::string::npos) << error;
}

TEST(EcottaMetaLog, RunsInAPipelineFromVideotestsrc) {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  EXPECT_EQ(ecotta::test_support::run_pipeline("videotestsrc num-buffers=30 ! ecottametalog location=" + path +
                                               " ! fakesink"),
            "");
  auto lines = read_lines(path);
  ASSERT_EQ(lines.size(), 30u);
  EXPECT_EQ(lines[29].at("frame"), 29);
  EXPECT_EQ(lines[29].at("result"), nullptr);
}

// ---- MQTT: a real broker on loopback -----------------------------------

class EcottaMetaLogMqtt : public ::testing::TestWithParam<int> {};

TEST_P(EcottaMetaLogMqtt, EveryMessageArrivesAndParses) {
  const int qos = GetParam();
  TempDir dir;
  const int port = free_port();
  Broker broker(dir, port);
  Subscriber subscriber(dir, port, "ecotta/test", 50, qos);
  const std::string address = "127.0.0.1:" + std::to_string(port);
  const std::string path = dir.file("out.jsonl");
  Harness h([&](GstElement* e) {
    g_object_set(e, "mqtt-address", address.c_str(), "mqtt-topic", "ecotta/test", "mqtt-qos", qos,
                 "mqtt-client-id", "ecotta-test", "location", path.c_str(), nullptr);
  });
  h.push_classified(0, 25);
  h.push_plain(25, 25);
  h.stop();  // waits (bounded) for the queue to reach the broker
  EXPECT_EQ(h.uint64_property("messages"), 50u);
  EXPECT_EQ(h.uint64_property("mqtt-dropped"), 0u);
  ASSERT_TRUE(subscriber.process->wait_exit(std::chrono::seconds(20))) << read_file(subscriber.output);
  const auto messages = subscriber.messages();
  ASSERT_EQ(messages.size(), 50u);
  // The same lines as the file, in order.
  const auto lines = read_lines(path);
  for (guint i = 0; i < 50; ++i) {
    EXPECT_EQ(messages[i].at("frame"), i);
    EXPECT_EQ(messages[i], lines[i]);
  }
  EXPECT_EQ(messages[3].at("label"), "Pullover");
  EXPECT_EQ(messages[30].at("result"), nullptr);
}

INSTANTIATE_TEST_SUITE_P(Qos, EcottaMetaLogMqtt, ::testing::Values(0, 1));

// Pushes `count` buffers and says how long it took.
std::chrono::milliseconds timed_push(Harness& h, guint first, guint count) {
  const auto start = Clock::now();
  h.push_classified(first, count);
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
}

// Expected well under 100 ms; the bound only catches waiting on the network.
constexpr std::chrono::milliseconds kPromptly{3000};

TEST(EcottaMetaLogMqttDown, BuffersFlowPromptlyAWarningIsPostedAndMessagesResume) {
  TempDir dir;
  const int port = free_port();  // nobody listens here yet
  const std::string address = "127.0.0.1:" + std::to_string(port);
  Harness h([&](GstElement* e) {
    g_object_set(e, "mqtt-address", address.c_str(), "mqtt-queue-size", 50u, nullptr);
  });
  EXPECT_LT(timed_push(h, 0, 100), kPromptly);
  EXPECT_EQ(gst_harness_buffers_in_queue(h.h), 100u);
  h.drop_output();
  const std::string warning = h.wait_message(GST_MESSAGE_WARNING, std::chrono::seconds(10));
  EXPECT_NE(warning.find(address), std::string::npos) << warning;
  EXPECT_NE(warning.find("mqtt-address"), std::string::npos) << warning;
  EXPECT_EQ(h.uint64_property("mqtt-dropped"), 50u) << "a queue of 50 keeps the 50 newest";
  EXPECT_FALSE(h.bool_property("mqtt-connected"));

  // Still down: more buffers, still prompt, and no second warning.
  EXPECT_LT(timed_push(h, 100, 100), kPromptly);
  h.drop_output();
  EXPECT_EQ(h.wait_message(GST_MESSAGE_WARNING, std::chrono::seconds(2)), "");
  EXPECT_EQ(h.uint64_property("mqtt-dropped"), 150u);

  // The broker comes up part-way: the element finds it, sends what it kept
  // (frames 150..199, unless it got there before the subscriber) and goes on.
  Broker broker(dir, port);
  Subscriber subscriber(dir, port, "ecotta/results", 0);
  ASSERT_TRUE(wait_until([&] { return h.bool_property("mqtt-connected"); }, std::chrono::seconds(20)));
  EXPECT_NE(h.wait_message(GST_MESSAGE_INFO, std::chrono::seconds(5)).find("again"), std::string::npos);
  guint queued = 1;
  EXPECT_TRUE(wait_until([&] { g_object_get(h.element(), "mqtt-queued", &queued, nullptr); return queued == 0; },
                         std::chrono::seconds(10)));
  EXPECT_LT(timed_push(h, 200, 50), kPromptly);
  h.drop_output();
  const bool all = wait_until(
      [&] {
        const auto frames = subscriber.frames();
        for (guint64 f = 200; f < 250; ++f)
          if (!frames.count(f)) return false;
        return true;
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(all) << subscriber.frames().size() << " frames: " << read_file(subscriber.output).substr(0, 2000);
  EXPECT_EQ(h.uint64_property("mqtt-dropped"), 150u);
  EXPECT_EQ(h.uint64_property("messages"), 250u);
}

TEST(EcottaMetaLogMqttDown, BrokerThatGoesAwayAndComesBack) {
  TempDir dir;
  const int port = free_port();
  const std::string address = "127.0.0.1:" + std::to_string(port);
  auto broker = std::make_unique<Broker>(dir, port);
  Harness h([&](GstElement* e) { g_object_set(e, "mqtt-address", address.c_str(), nullptr); });
  ASSERT_TRUE(wait_until([&] { return h.bool_property("mqtt-connected"); }, std::chrono::seconds(10)));
  broker.reset();  // the broker goes away
  EXPECT_LT(timed_push(h, 0, 100), kPromptly);
  h.drop_output();
  const std::string warning = h.wait_message(GST_MESSAGE_WARNING, std::chrono::seconds(10));
  EXPECT_NE(warning.find(address), std::string::npos) << warning;

  broker = std::make_unique<Broker>(dir, port);
  Subscriber subscriber(dir, port, "ecotta/results", 0);
  ASSERT_TRUE(wait_until([&] { return h.bool_property("mqtt-connected"); }, std::chrono::seconds(20)));
  h.push_classified(100, 50);
  h.drop_output();
  EXPECT_TRUE(wait_until([&] { return subscriber.frames().count(149) == 1; }, std::chrono::seconds(20)))
      << read_file(subscriber.output).substr(0, 2000);
  const auto frames = subscriber.frames();
  for (guint64 f = 100; f < 150; ++f) EXPECT_EQ(frames.count(f), 1u) << f;
}

// A peer that accepts TCP and never answers (a hung broker).
TEST(EcottaMetaLogMqttDown, SilentBrokerDoesNotHoldBuffersUp) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 16), 0);
  socklen_t length = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  const std::string address = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  {
    Harness h([&](GstElement* e) { g_object_set(e, "mqtt-address", address.c_str(), nullptr); });
    EXPECT_LT(timed_push(h, 0, 100), kPromptly);
    h.drop_output();
    const std::string warning = h.wait_message(GST_MESSAGE_WARNING, std::chrono::seconds(10));
    EXPECT_NE(warning.find("no MQTT session"), std::string::npos) << warning;
    const auto start = Clock::now();
    h.stop();
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(5)) << "stopping must not wait on a hung broker for long";
    EXPECT_EQ(h.uint64_property("mqtt-dropped"), 100u);
  }
  close(fd);
}

}  // namespace
