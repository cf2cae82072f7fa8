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

namespace detail {
struct OwnerSlot;
}

// Bytes allocated on behalf of one owner (e.g. one adaptation worker): every
// allocation made on a thread while an OwnerScope for this owner is active on
// that thread is charged to it, and credited back when freed, whichever
// thread frees it. The process-wide AllocationCounter still counts everything.
// Allocations LibTorch makes on its own intra-op pool threads are not charged
// (no OwnerScope is active there).
//
// With `reuse_blocks`, large blocks (kReusedBlockBytes and up) the owner's
// tensors free are kept and handed back to the owner's next allocation of
// the same size, up to twice the most bytes the owner ever had live. A streaming thread's work
// repeats the same shapes every frame or step, and glibc would otherwise
// mmap and munmap each such block: page faults for the thread, and TLB
// shootdowns that interrupt every other thread of the process (measured: the
// adaptation worker took the inference thread's p99 latency to 1.5-2.5x).
// Kept blocks are not in current_bytes() (nothing live uses them); they are
// freed with the owner.
class MemoryOwner {
 public:
  static constexpr size_t kReusedBlockBytes = 64 * 1024;
  explicit MemoryOwner(bool reuse_blocks = false);
  // Allocations still live keep being tracked safely after the owner is gone:
  // its counters live on in a registry slot (see counting_allocator.cpp).
  ~MemoryOwner();
  MemoryOwner(const MemoryOwner&) = delete;
  MemoryOwner& operator=(const MemoryOwner&) = delete;

  int64_t current_bytes() const;
  // Highest current_bytes() since construction or the last reset_peak().
  int64_t peak_bytes() const;
  // Starts a new peak measurement from the current level.
  void reset_peak();
  // Bytes of freed blocks kept for reuse (0 without reuse_blocks).
  int64_t kept_bytes() const;

 private:
  friend class OwnerScope;
  detail::OwnerSlot* slot_;
};

// While alive, this thread's allocations are charged to `owner` (nestable:
// restores the thread's previous owner on destruction). Installs the counting
// allocator if needed. The owner must outlive the scope.
class OwnerScope {
 public:
  explicit OwnerScope(MemoryOwner& owner);
  ~OwnerScope();
  OwnerScope(const OwnerScope&) = delete;
  OwnerScope& operator=(const OwnerScope&) = delete;

 private:
  detail::OwnerSlot* previous_;
};

}  // namespace ecotta::memory
