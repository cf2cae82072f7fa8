#pragma once
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace ecotta::stream {

// At most `slots` frames in inference at once, admitted first come, first
// served. Cameras of one process pass one gate (process_inference_gate):
// frames of many cameras arrive together (one clock paces them all), and
// without a gate every camera's forward is in flight at once, each with its
// tensors alive and the inference pool keeping twice the most ever live:
// memory that grows with the camera count. With the gate it grows with the
// slots. Two slots per core, not one: a forward preempted by a decoder or
// the adaptation worker holds its slot, and at one per core the queue then
// stalls (30-second runs of ecotta-cameras-bench run, 8 cameras on 2
// cores: p50 latency in the element 61 ms and 1,112 frames over a frame
// period at one slot per core; 32 ms and 4 at two; 34 ms and 1 without a
// gate, which held 5.8 MiB per added camera against 4.7).
class InferenceGate {
 public:
  explicit InferenceGate(int slots);
  int slots() const { return slots_; }

  class Pass {  // holds a slot until destroyed
   public:
    explicit Pass(InferenceGate& gate);
    ~Pass();
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;

   private:
    InferenceGate& gate_;
  };

  int64_t waiting() const;  // frames queued for a slot now

 private:
  const int slots_;
  mutable std::mutex mutex_;
  std::condition_variable turn_;
  // Tickets in arrival order; ticket t runs once fewer than `slots` of the
  // tickets before it are unfinished (t - finished < slots).
  int64_t next_ticket_ = 0, finished_ = 0;
};

// The process's gate: two slots per CPU this process may run on.
InferenceGate& process_inference_gate();

}  // namespace ecotta::stream
