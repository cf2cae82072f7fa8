#pragma once
#include <cstddef>
#include <cstdint>

namespace ecotta::memory {

// Counts every CPU tensor allocation LibTorch makes (including the buffers
// oneDNN takes through c10's allocator): bytes in use now and the peak since
// the last reset. Installed into c10 once per process; allocations made
// before installation are not counted when freed.
class AllocationCounter {
 public:
  // Installs the counting allocator (idempotent, thread-safe).
  static AllocationCounter& install();

  int64_t current_bytes() const;
  int64_t peak_bytes() const;
  // Starts a new peak measurement from the current level.
  void reset_peak();
};

// Measures the peak above the level at construction: "how many bytes did
// this block of work need on top of what was already allocated".
class PeakScope {
 public:
  PeakScope();
  int64_t peak_above_start() const;

 private:
  int64_t start_;
};

}  // namespace ecotta::memory
