#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace ecotta::data {

// splitmix64: a small, fast mixer that gives the same numbers on every
// platform (the standard library's distributions do not), used to seed and
// draw everything in scenes and streams reproducibly.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A hash of a sequence of values, splitmix64 applied link by link.
inline uint64_t hash_of(std::initializer_list<uint64_t> values) {
  uint64_t h = 0;
  for (uint64_t v : values) h = splitmix64(h ^ v);
  return h;
}

// A derived seed for the i-th part of something seeded with `seed`.
inline uint64_t derive_seed(uint64_t seed, uint64_t i) { return splitmix64(seed ^ splitmix64(i)); }

// splitmix64 as a generator.
class SplitMixRng {
 public:
  explicit SplitMixRng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    const uint64_t out = splitmix64(state_);
    state_ += 0x9e3779b97f4a7c15ULL;
    return out;
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  size_t below(size_t n) {  // uniform in [0, n), n > 0, without modulo bias
    const uint64_t limit = -uint64_t(n) % n;
    uint64_t r;
    do r = next();
    while (r < limit);
    return size_t(r % n);
  }
  int between(int lo, int hi) { return lo + static_cast<int>(below(size_t(hi - lo) + 1)); }  // inclusive

 private:
  uint64_t state_;
};

}  // namespace ecotta::data
