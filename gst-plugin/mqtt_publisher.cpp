// MqttPublisher: a bounded queue in front of libmosquitto's threaded client.
#include "mqtt_publisher.h"

#include <mosquitto.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace ecotta::gst {

namespace {

// Messages handed to libmosquitto and not yet written (QoS 0) or
// acknowledged (QoS 1): bounds libmosquitto's own queue on a slow link.
constexpr std::size_t kInFlightWindow = 100;

void init_library_once() {
  static const int rc = mosquitto_lib_init();
  (void)rc;
}

// libmosquitto's texts end in a full stop; the element's message adds its own.
std::string without_full_stop(std::string text) {
  while (!text.empty() && text.back() == '.') text.pop_back();
  return text;
}

// MOSQ_ERR_ERRNO means "look at errno", which mosquitto_strerror does.
std::string describe(int rc) { return without_full_stop(mosquitto_strerror(rc)); }

}  // namespace

std::optional<MqttAddress> parse_mqtt_address(const std::string& text, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<MqttAddress> {
    if (error) *error = why;
    return std::nullopt;
  };
  MqttAddress address;
  std::string port_text;
  if (!text.empty() && text.front() == '[') {  // [IPv6]:port
    const auto close = text.find(']');
    if (close == std::string::npos) return fail("missing ']' after an IPv6 address");
    address.host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return fail("expected ':' after ']'");
      port_text = text.substr(close + 2);
      if (port_text.empty()) return fail("empty port after ':'");
    }
  } else {
    const auto colon = text.rfind(':');
    if (colon != std::string::npos && text.find(':') != colon)
      return fail("write an IPv6 address in brackets, e.g. [::1]:1883");
    address.host = text.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = text.substr(colon + 1);
      if (port_text.empty()) return fail("empty port after ':'");
    }
  }
  if (address.host.empty()) return fail("no host name");
  if (!port_text.empty()) {
    char* end = nullptr;
    errno = 0;
    const long port = std::strtol(port_text.c_str(), &end, 10);
    if (errno || *end != '\0' || port < 1 || port > 65535)
      return fail("port '" + port_text + "' is not a number from 1 to 65535");
    address.port = static_cast<int>(port);
  }
  return address;
}

MqttPublisher::MqttPublisher(MqttSettings settings, MqttEvents events)
    : settings_(std::move(settings)), events_(std::move(events)) {
  if (settings_.qos < 0 || settings_.qos > 1) throw std::runtime_error("QoS must be 0 or 1");
  if (settings_.queue_size == 0) throw std::runtime_error("the queue must hold at least one message");
  if (settings_.topic.empty() || mosquitto_pub_topic_check(settings_.topic.c_str()) != MOSQ_ERR_SUCCESS)
    throw std::runtime_error("'" + settings_.topic + "' is not a topic one can publish to (empty, or holds + or #)");
  init_library_once();
  mosq_ = mosquitto_new(settings_.client_id.empty() ? nullptr : settings_.client_id.c_str(), true, this);
  if (!mosq_) throw std::runtime_error("mosquitto_new failed (out of memory, or an invalid client id)");
  mosquitto_connect_callback_set(mosq_, [](::mosquitto*, void* self, int rc) {
    static_cast<MqttPublisher*>(self)->on_connect(rc);
  });
  mosquitto_disconnect_callback_set(mosq_, [](::mosquitto*, void* self, int rc) {
    static_cast<MqttPublisher*>(self)->on_disconnect(rc);
  });
  mosquitto_publish_callback_set(mosq_, [](::mosquitto*, void* self, int) {
    static_cast<MqttPublisher*>(self)->on_publish();
  });
  // Retry after 1 s, backing off to 4 s: a broker that comes back is found
  // again within seconds.
  mosquitto_reconnect_delay_set(mosq_, 1, 4, true);
  // The network thread must run before connect_async: a first attempt that
  // fails is then retried by it (started afterwards, it never retries).
  const int rc = mosquitto_loop_start(mosq_);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_destroy(mosq_);
    throw std::runtime_error("cannot start the MQTT network thread: " + describe(rc));
  }
  down_since_ = std::chrono::steady_clock::now();
  sender_ = std::thread([this] { run(); });
}

MqttPublisher::~MqttPublisher() {
  stop(std::chrono::milliseconds(0));
  mosquitto_destroy(mosq_);
}

void MqttPublisher::publish(std::string payload) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
      ++dropped_;
      return;
    }
    if (queue_.size() >= settings_.queue_size) {
      queue_.pop_front();
      ++dropped_;
    }
    queue_.push_back(std::move(payload));
  }
  wake_.notify_all();
}

void MqttPublisher::run() {
  // Connecting may resolve a host name: done here, never in the caller.
  const int rc = mosquitto_connect_async(mosq_, settings_.address.host.c_str(), settings_.address.port,
                                         settings_.keepalive_s);
  std::unique_lock<std::mutex> lock(mutex_);
  if (rc != MOSQ_ERR_SUCCESS) failure_ = "cannot connect: " + describe(rc);
  while (!stopping_) {
    // Outage reports: once when the broker cannot be reached, once when it is back.
    std::function<void()> report;
    if (!connected_ && !outage_reported_) {
      std::string why = failure_;
      if (why.empty() && std::chrono::steady_clock::now() - down_since_ >= settings_.connect_timeout)
        why = "no MQTT session after " + std::to_string(settings_.connect_timeout.count()) + " ms";
      if (!why.empty()) {
        outage_reported_ = true;
        if (events_.unreachable) report = [this, why] { events_.unreachable(why); };
      }
    } else if (connected_ && outage_reported_) {
      outage_reported_ = false;
      if (events_.reachable) report = events_.reachable;
    }
    if (report) {
      lock.unlock();
      report();
      lock.lock();
      wake_.notify_all();  // stop() may wait on outage_reported_
      continue;
    }
    if (connected_ && !queue_.empty() && in_flight_ < kInFlightWindow) {
      std::string message = std::move(queue_.front());
      queue_.pop_front();
      ++in_flight_;
      lock.unlock();
      const int sent = mosquitto_publish(mosq_, nullptr, settings_.topic.c_str(), static_cast<int>(message.size()),
                                         message.data(), settings_.qos, false);
      lock.lock();
      if (sent == MOSQ_ERR_SUCCESS) continue;
      if (in_flight_ > 0) --in_flight_;
      if (sent == MOSQ_ERR_NO_CONN && queue_.size() < settings_.queue_size) {
        // The link went down under us: keep the message for the next session
        // and let on_disconnect/on_connect tell us when to go on.
        queue_.push_front(std::move(message));
        wake_.wait_for(lock, std::chrono::milliseconds(50));
      } else {
        ++dropped_;  // too large for the broker, out of memory, or no room left
      }
      continue;
    }
    // Woken by publish(), the callbacks or stop(); the timeout checks connect_timeout.
    wake_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

void MqttPublisher::on_connect(int rc) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (rc == 0) {
      connected_ = true;
      failure_.clear();
    } else {
      failure_ = "the broker refused the connection: " + without_full_stop(mosquitto_connack_string(rc));
    }
  }
  wake_.notify_all();
}

void MqttPublisher::on_disconnect(int rc) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    const bool was_connected = connected_;
    connected_ = false;
    if (was_connected) down_since_ = std::chrono::steady_clock::now();
    // libmosquitto discards unwritten QoS 0 packets when it reconnects;
    // QoS 1 messages stay with it and are sent again.
    if (settings_.qos == 0) {
      dropped_ += in_flight_;
      in_flight_ = 0;
    }
    if (rc != 0 && !stopping_)
      failure_ = (was_connected ? "connection lost: " : "cannot connect: ") + describe(rc);
  }
  wake_.notify_all();
}

void MqttPublisher::on_publish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (in_flight_ > 0) --in_flight_;
    ++sent_;
  }
  wake_.notify_all();
}

void MqttPublisher::stop(std::chrono::milliseconds drain) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (network_stopped_) return;
    // Wait for the queue to empty, unless the broker is known to be away
    // (a connection still being set up is waited for).
    wake_.wait_for(lock, drain, [this] {
      const bool known_down = !connected_ && (outage_reported_ || !failure_.empty());
      return known_down || (queue_.empty() && in_flight_ == 0);
    });
    stopping_ = true;
  }
  wake_.notify_all();
  if (sender_.joinable()) sender_.join();
  shut_down_network();
}

void MqttPublisher::shut_down_network() {
  bool was_connected;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    was_connected = connected_;
  }
  mosquitto_disconnect(mosq_);
  // Connected: the network thread sends DISCONNECT and ends by itself.
  // Otherwise it may sit in a reconnect delay or a blocking connect: cancel it.
  mosquitto_loop_stop(mosq_, !was_connected);
  std::lock_guard<std::mutex> lock(mutex_);
  dropped_ += queue_.size() + in_flight_;
  queue_.clear();
  in_flight_ = 0;
  connected_ = false;
  network_stopped_ = true;
}

std::uint64_t MqttPublisher::dropped() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return dropped_;
}

std::uint64_t MqttPublisher::sent() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return sent_;
}

std::size_t MqttPublisher::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size() + in_flight_;
}

bool MqttPublisher::connected() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return connected_;
}

}  // namespace ecotta::gst
