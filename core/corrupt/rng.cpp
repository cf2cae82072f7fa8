#include "rng.h"

#include <array>
#include <cmath>

namespace ecotta::corrupt {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// log(k!) without std::lgamma (which writes the global signgam): a table for
// small k, Stirling's series beyond (accurate to ~1e-13 there).
double log_factorial(int64_t k) {
  static const std::array<double, 64> table = [] {
    std::array<double, 64> t{};
    for (size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] + std::log(static_cast<double>(i));
    return t;
  }();
  if (k < static_cast<int64_t>(table.size())) return table[static_cast<size_t>(k)];
  const double x = static_cast<double>(k) + 1.0;  // log(k!) = log Gamma(k + 1)
  const double r = 1.0 / x, r2 = r * r;
  return (x - 0.5) * std::log(x) - x + 0.5 * std::log(kTwoPi) +
         r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 / 1680)));
}

}  // namespace

double Rng::uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

int Rng::integer(int lo, int hi_exclusive) {
  const double span = static_cast<double>(hi_exclusive) - lo;
  return lo + static_cast<int>(std::floor(uniform() * span));
}

double Rng::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_normal_;
  }
  const double u1 = 1.0 - uniform();  // (0, 1]: log stays finite
  const double u2 = uniform();
  const double radius = std::sqrt(-2.0 * std::log(u1));
  spare_normal_ = radius * std::sin(kTwoPi * u2);
  has_spare_ = true;
  return radius * std::cos(kTwoPi * u2);
}

int64_t Rng::poisson(double mean) {
  if (!(mean > 0.0)) return 0;
  if (mean < 10.0) {
    const double limit = std::exp(-mean);
    int64_t k = 0;
    for (double prod = uniform(); prod > limit; prod *= uniform()) ++k;
    return k;
  }
  // Transformed rejection with squeeze (PTRS), the algorithm numpy uses.
  const double slam = std::sqrt(mean), loglam = std::log(mean);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const double u = uniform() - 0.5;
    const double v = uniform();
    const double us = 0.5 - std::fabs(u);
    const auto k = static_cast<int64_t>(std::floor((2 * a / us + b) * u + mean + 0.43));
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (std::log(v) + std::log(invalpha) - std::log(a / (us * us) + b) <= -mean + k * loglam - log_factorial(k))
      return k;
  }
}

}  // namespace ecotta::corrupt
