#include "counting_allocator.h"

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <torch/version.h>

#include <cstring>

#include <atomic>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace ecotta::memory {

namespace detail {
// Counters of one MemoryOwner. Owner lifetime: slots are never freed, so a
// tensor that outlives its owner (e.g. a snapshot freed later by another
// thread) still credits valid memory. A slot is reused by a new owner only
// once its old owner is gone AND nothing charged to it is live (current == 0):
// no new charges can arrive after the owner's destruction, and current == 0
// means no live allocation's header still points at the slot (a free that
// drops it to 0 may still offer its block to the slot's next owner, which
// then keeps it as its own). Bounded cost: the registry never holds
// more slots (24 bytes each) than the most owners ever alive at once plus dead
// owners with tensors still live; the scan for a free slot happens only when
// an owner is constructed, never on the allocation path.
struct OwnerSlot {
  std::atomic<int64_t> current{0};
  std::atomic<int64_t> peak{0};
  std::atomic<int64_t> high{0};  // highest current ever (peak is reset between measurements)
  bool in_use = false;  // guarded by g_owner_mutex
  // Freed blocks kept for reuse, by size (MemoryOwner reuse_blocks).
  std::mutex kept_mutex;
  bool reuse = false;  // guarded by kept_mutex
  std::unordered_multimap<size_t, void*> kept;
  std::atomic<int64_t> kept_bytes{0};  // written under kept_mutex, read without it
};
}  // namespace detail

namespace {

using detail::OwnerSlot;

std::atomic<int64_t> g_current{0};
std::atomic<int64_t> g_peak{0};

// Owner charged for this thread's allocations (nullptr: none).
thread_local OwnerSlot* t_owner = nullptr;

std::mutex g_owner_mutex;
std::vector<OwnerSlot*>& owner_slots() {
  static auto* slots = new std::vector<OwnerSlot*>();  // never destroyed, like the slots
  return *slots;
}

OwnerSlot* acquire_slot() {
  std::lock_guard<std::mutex> lock(g_owner_mutex);
  for (OwnerSlot* s : owner_slots()) {
    if (!s->in_use && s->current.load() == 0) {
      s->in_use = true;
      s->peak.store(0);
      s->high.store(0);
      return s;
    }
  }
  auto* s = new OwnerSlot();
  s->in_use = true;
  owner_slots().push_back(s);
  return s;
}

void set_reuse(OwnerSlot* s, bool reuse) {
  std::unordered_multimap<size_t, void*> kept;
  {
    std::lock_guard<std::mutex> lock(s->kept_mutex);
    s->reuse = reuse;
    kept.swap(s->kept);
    s->kept_bytes = 0;
  }
  for (const auto& [bytes, p] : kept) c10::free_cpu(p);
}

void release_slot(OwnerSlot* s) {
  set_reuse(s, false);  // frees the kept blocks; later frees go back to the system
  std::lock_guard<std::mutex> lock(g_owner_mutex);
  s->in_use = false;
}

// A kept block of exactly `n` bytes for this thread's owner, or null.
void* take_kept(OwnerSlot* owner, size_t n) {
  if (!owner || n < MemoryOwner::kReusedBlockBytes) return nullptr;
  std::lock_guard<std::mutex> lock(owner->kept_mutex);
  if (!owner->reuse) return nullptr;
  const auto it = owner->kept.find(n);
  if (it == owner->kept.end()) return nullptr;
  void* p = it->second;
  owner->kept.erase(it);
  owner->kept_bytes -= static_cast<int64_t>(n);
  return p;
}

// Keeps a freed block for its owner if it reuses blocks and the kept bytes
// stay within twice the most it ever had live (blocks are matched by exact
// size, so one pass can need more kept bytes than its peak: a size freed
// before another is allocated cannot serve it); returns whether it kept it.
bool keep(OwnerSlot* owner, void* p, size_t n) {
  if (!owner || n < MemoryOwner::kReusedBlockBytes) return false;
  std::lock_guard<std::mutex> lock(owner->kept_mutex);
  const auto bytes = static_cast<int64_t>(n);
  if (!owner->reuse || owner->kept_bytes + bytes > 2 * owner->high.load()) return false;
  owner->kept.emplace(n, p);
  owner->kept_bytes += bytes;
  return true;
}

void raise_peak(std::atomic<int64_t>& peak, int64_t now) {
  int64_t seen = peak.load();
  while (now > seen && !peak.compare_exchange_weak(seen, now)) {
  }
}

// Size and owner of an allocation, in a header just before its data: c10's
// raw allocation interface hands back only the pointer, so both must be
// found again at free time. No lock on this path: a process-wide lock taken
// by every allocation let the low-priority adaptation worker, preempted
// while holding it, stall every camera's inference.
struct Header {
  size_t bytes;
  OwnerSlot* owner;
};
constexpr size_t kHeaderBytes = 64;  // keeps c10's 64-byte alignment of the data
static_assert(sizeof(Header) <= kHeaderBytes);

void* data_of(void* block) { return static_cast<char*>(block) + kHeaderBytes; }
void* block_of(void* data) { return static_cast<char*>(data) - kHeaderBytes; }

void note_alloc(void* block, size_t n, OwnerSlot* owner) {
  *static_cast<Header*>(block) = {n, owner};
  const auto bytes = static_cast<int64_t>(n);
  raise_peak(g_peak, g_current.fetch_add(bytes) + bytes);
  if (owner) {
    const int64_t now = owner->current.fetch_add(bytes) + bytes;
    raise_peak(owner->peak, now);
    raise_peak(owner->high, now);
  }
}

void counting_free(void* p) {
  if (!p) return;
  void* block = block_of(p);
  const Header a = *static_cast<Header*>(block);
  g_current.fetch_sub(static_cast<int64_t>(a.bytes));
  if (a.owner) a.owner->current.fetch_sub(static_cast<int64_t>(a.bytes));
  if (keep(a.owner, block, a.bytes)) return;
  c10::free_cpu(block);
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
    if (n == 0) return {nullptr, nullptr, &counting_free, c10::Device(c10::DeviceType::CPU)};
    OwnerSlot* owner = t_owner;
    void* block = take_kept(owner, n);
    if (!block) block = c10::alloc_cpu(n + kHeaderBytes);
    note_alloc(block, n, owner);
    void* p = data_of(block);
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

MemoryOwner::MemoryOwner(bool reuse_blocks) : slot_(acquire_slot()) { set_reuse(slot_, reuse_blocks); }
MemoryOwner::~MemoryOwner() { release_slot(slot_); }

int64_t MemoryOwner::current_bytes() const { return slot_->current.load(); }
int64_t MemoryOwner::peak_bytes() const { return slot_->peak.load(); }
void MemoryOwner::reset_peak() { slot_->peak.store(slot_->current.load()); }
int64_t MemoryOwner::kept_bytes() const { return slot_->kept_bytes.load(); }

OwnerScope::OwnerScope(MemoryOwner& owner) : previous_(t_owner) {
  AllocationCounter::install();
  t_owner = owner.slot_;
}

OwnerScope::~OwnerScope() { t_owner = previous_; }

}  // namespace ecotta::memory
