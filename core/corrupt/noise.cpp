// Per-pixel noise (gaussian, shot, impulse, speckle). Size scaling: none,
// noise is independent per pixel and channel at every image size.
#include <algorithm>
#include <array>

#include <opencv2/core.hpp>

#include "families.h"

namespace ecotta::corrupt {
namespace {

// Applies f(value in [0, 1]) -> value to every channel value, clipping and
// rounding back to 8 bits.
template <typename F>
cv::Mat map_values(const cv::Mat& rgb, F f) {
  cv::Mat out(rgb.size(), CV_8UC3);
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* src = rgb.ptr<uint8_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int i = 0; i < rgb.cols * 3; ++i) dst[i] = cv::saturate_cast<uint8_t>(255.0 * f(src[i] / 255.0));
  }
  return out;
}

}  // namespace

cv::Mat gaussian_noise(const cv::Mat& rgb, int severity, Rng& rng) {
  const double sd = std::array{.04, .06, .08, .09, .10}[severity - 1];
  return map_values(rgb, [&](double x) { return x + rng.normal(0.0, sd); });
}

cv::Mat shot_noise(const cv::Mat& rgb, int severity, Rng& rng) {
  const double photons = std::array{500.0, 250.0, 100.0, 75.0, 50.0}[severity - 1];
  return map_values(rgb, [&](double x) { return static_cast<double>(rng.poisson(x * photons)) / photons; });
}

cv::Mat impulse_noise(const cv::Mat& rgb, int severity, Rng& rng) {
  const double amount = std::array{.01, .02, .03, .05, .07}[severity - 1];
  // skimage's 's&p': each channel value independently flips with probability
  // `amount`, to salt or pepper with equal odds.
  return map_values(rgb, [&](double x) {
    if (rng.uniform() >= amount) return x;
    return rng.uniform() < 0.5 ? 1.0 : 0.0;
  });
}

cv::Mat speckle_noise(const cv::Mat& rgb, int severity, Rng& rng) {
  const double sd = std::array{.06, .1, .12, .16, .2}[severity - 1];
  return map_values(rgb, [&](double x) { return x + x * rng.normal(0.0, sd); });
}

}  // namespace ecotta::corrupt
