#include "inference_gate.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

namespace ecotta::stream {

InferenceGate::InferenceGate(int slots) : slots_(slots) {
  if (slots < 1) throw std::invalid_argument("InferenceGate: at least one slot");
}

InferenceGate::Pass::Pass(InferenceGate& gate) : gate_(gate) {
  std::unique_lock<std::mutex> lock(gate_.mutex_);
  const int64_t ticket = gate_.next_ticket_++;
  gate_.turn_.wait(lock, [&] { return ticket - gate_.finished_ < gate_.slots_; });
}

InferenceGate::Pass::~Pass() {
  {
    std::lock_guard<std::mutex> lock(gate_.mutex_);
    ++gate_.finished_;
  }
  gate_.turn_.notify_all();
}

int64_t InferenceGate::waiting() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return std::max<int64_t>(0, next_ticket_ - finished_ - slots_);
}

namespace {
int allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
}
}  // namespace

InferenceGate& process_inference_gate() {
  static InferenceGate gate(2 * allowed_cpus());
  return gate;
}

}  // namespace ecotta::stream
