#pragma once
#include <cstdint>
#include <random>

namespace ecotta::corrupt {

// The one source of randomness for a corruption call: a 64-bit Mersenne
// Twister seeded explicitly (never global state), with samplers written here
// rather than taken from <random>'s distributions, whose algorithms differ
// between standard libraries. So a seed gives the same bytes everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  double uniform();                       // [0, 1), 53 random bits
  double uniform(double lo, double hi);   // [lo, hi)
  int integer(int lo, int hi_exclusive);  // lo <= n < hi_exclusive, like numpy's randint
  double normal();                        // N(0, 1), Box-Muller
  double normal(double mean, double sd) { return mean + sd * normal(); }
  int64_t poisson(double mean);  // multiplication method below 10, PTRS (Hoermann 1993) above

 private:
  std::mt19937_64 engine_;
  double spare_normal_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace ecotta::corrupt
