// Publishes text messages to an MQTT broker without ever making the caller
// wait: publish() only appends to a bounded queue; a sender thread hands
// messages to libmosquitto, whose own network thread connects, reconnects
// and writes. Plain C++ (no GStreamer), so the element stays a thin shell.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

struct mosquitto;

namespace ecotta::gst {

struct MqttAddress {
  std::string host;
  int port = 1883;
};

// "host:port", "host" (port 1883) or "[v6-address]:port". nullopt when
// malformed (empty host, port not in 1..65535); `error` then says why.
std::optional<MqttAddress> parse_mqtt_address(const std::string& text, std::string* error = nullptr);

struct MqttSettings {
  MqttAddress address;
  std::string topic = "ecotta/results";
  std::string client_id;         // empty: the broker's clean session with a random id
  int qos = 0;                   // 0 or 1
  std::size_t queue_size = 1000; // messages waiting while the broker is away; the oldest go first
  std::chrono::milliseconds connect_timeout{3000};  // no session after this long: unreachable
  int keepalive_s = 10;
};

// Called from the publisher's threads, never with its lock held.
struct MqttEvents {
  std::function<void(const std::string& why)> unreachable;  // once per outage
  std::function<void()> reachable;                          // after an outage that was reported
};

class MqttPublisher {
 public:
  // Starts the threads and connects in the background; throws
  // std::runtime_error when libmosquitto refuses the settings.
  MqttPublisher(MqttSettings settings, MqttEvents events);
  ~MqttPublisher();
  MqttPublisher(const MqttPublisher&) = delete;
  MqttPublisher& operator=(const MqttPublisher&) = delete;

  // Queues one message; never blocks on the network. When the queue is
  // full the oldest waiting message is dropped.
  void publish(std::string payload);

  // Waits up to `drain` for queued messages to reach a connected broker,
  // then disconnects. What is still undelivered counts as dropped.
  void stop(std::chrono::milliseconds drain);

  std::uint64_t dropped() const;  // never reached the broker
  std::uint64_t sent() const;     // written to the socket (QoS 0) or acknowledged (QoS 1)
  std::size_t queued() const;     // waiting, or handed to libmosquitto and not yet sent
  bool connected() const;

 private:
  void run();
  void on_connect(int rc);
  void on_disconnect(int rc);
  void on_publish();
  void shut_down_network();

  const MqttSettings settings_;
  const MqttEvents events_;
  ::mosquitto* mosq_ = nullptr;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::size_t in_flight_ = 0;  // handed to libmosquitto, not yet sent/acknowledged
  bool connected_ = false;
  bool stopping_ = false;
  bool draining_ = false;
  std::string failure_;        // set by the network thread: why the last attempt failed
  bool outage_reported_ = false;
  std::chrono::steady_clock::time_point down_since_;
  std::uint64_t dropped_ = 0;
  std::uint64_t sent_ = 0;
  bool network_stopped_ = false;
  std::thread sender_;
};

}  // namespace ecotta::gst
