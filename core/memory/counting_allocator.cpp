#include "counting_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/version.h>

#include <cstring>

#include <atomic>
#include <mutex>
#include <unordered_map>

namespace ecotta::memory {
namespace {

std::atomic<int64_t> g_current{0};
std::atomic<int64_t> g_peak{0};

// Sizes of live allocations by address: c10's raw allocation interface hands
// back only the pointer, so the size must be found again at free time.
std::mutex g_mutex;
std::unordered_map<void*, size_t>& live() {
  static auto* map = new std::unordered_map<void*, size_t>();  // never destroyed: frees can come late
  return *map;
}

void note_alloc(void* p, size_t n) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    live()[p] = n;
  }
  const int64_t now = g_current.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
  int64_t peak = g_peak.load();
  while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
  }
}

void counting_free(void* p) {
  size_t n = 0;
  bool known = false;
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = live().find(p);
    if (it != live().end()) {
      n = it->second;
      known = true;
      live().erase(it);
    }
  }
  if (known) g_current.fetch_sub(static_cast<int64_t>(n));
  c10::free_cpu(p);
}

// LibTorch 2.3 made Allocator::allocate non-const.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define ECOTTA_ALLOCATE_CONST
#else
#define ECOTTA_ALLOCATE_CONST const
#endif

class CountingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t n) ECOTTA_ALLOCATE_CONST override {
    void* p = c10::alloc_cpu(n);
    if (p) note_alloc(p, n);
    return {p, p, &counting_free, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &counting_free; }
  // LibTorch 2.x made this pure virtual; 1.13 does not have it.
  void copy_data(void* dest, const void* src, std::size_t count) const {
    std::memcpy(dest, src, count);
  }
};

}  // namespace

AllocationCounter& AllocationCounter::install() {
  static AllocationCounter counter;
  static std::once_flag once;
  std::call_once(once, [] {
    static CountingCpuAllocator allocator;
    c10::SetCPUAllocator(&allocator, /*priority=*/100);
  });
  return counter;
}

int64_t AllocationCounter::current_bytes() const { return g_current.load(); }
int64_t AllocationCounter::peak_bytes() const { return g_peak.load(); }
void AllocationCounter::reset_peak() { g_peak.store(g_current.load()); }

PeakScope::PeakScope() : start_(AllocationCounter::install().current_bytes()) {
  AllocationCounter::install().reset_peak();
}

int64_t PeakScope::peak_above_start() const { return AllocationCounter::install().peak_bytes() - start_; }

}  // namespace ecotta::memory
