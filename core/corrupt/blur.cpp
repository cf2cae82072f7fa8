// Blurs (defocus, glass, motion, zoom, gaussian). Size scaling: every radius,
// sigma and shuffle distance is multiplied by size_scale(); zoom factors are
// relative already and stay as they are.
#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "families.h"
#include "image_ops.h"

namespace ecotta::corrupt {
namespace {

// CIFAR-10-C's disk(): an aliased disk of `radius`, normalized, then smoothed
// by a Gaussian of `alias_sigma` over a (2 * alias_half + 1)^2 window (3x3 at
// 32x32). Returned cropped to its non-zero support, centred.
cv::Mat disk_kernel(double radius, double alias_sigma, int alias_half) {
  const int half = static_cast<int>(std::ceil(radius)) + alias_half + 1;
  cv::Mat disk = cv::Mat::zeros(2 * half + 1, 2 * half + 1, CV_32F);
  for (int y = -half; y <= half; ++y)
    for (int x = -half; x <= half; ++x)
      if (x * x + y * y <= radius * radius) disk.at<float>(y + half, x + half) = 1.0f;
  disk /= cv::sum(disk)[0];
  cv::Mat smooth;
  cv::GaussianBlur(disk, smooth, cv::Size(2 * alias_half + 1, 2 * alias_half + 1), alias_sigma);
  int extent = 0;
  for (int y = 0; y < smooth.rows; ++y)
    for (int x = 0; x < smooth.cols; ++x)
      if (smooth.at<float>(y, x) != 0.0f) extent = std::max({extent, std::abs(y - half), std::abs(x - half)});
  return smooth(cv::Rect(half - extent, half - extent, 2 * extent + 1, 2 * extent + 1)).clone();
}

}  // namespace

cv::Mat defocus_blur(const cv::Mat& rgb, int severity, Rng&) {
  const auto [radius, alias] =
      std::array<std::pair<double, double>, 5>{{{.3, .4}, {.4, .5}, {.5, .6}, {1, .2}, {1.5, .1}}}[severity - 1];
  const double s = size_scale(rgb.size());
  const cv::Mat kernel = disk_kernel(radius * s, alias * s, std::max(1, static_cast<int>(std::lround(s))));
  cv::Mat out;
  cv::filter2D(to_unit_float(rgb), out, -1, kernel);
  return to_rgb8(out);
}

cv::Mat glass_blur(const cv::Mat& rgb, int severity, Rng& rng) {
  struct Params {
    double sigma;
    int max_delta;
    int iterations;
  };
  const Params p = std::array<Params, 5>{{{.05, 1, 1}, {.25, 1, 1}, {.4, 1, 1}, {.25, 1, 2}, {.4, 1, 2}}}[severity - 1];
  const double s = size_scale(rgb.size());
  const double sigma = p.sigma * s;
  const int delta = std::max(1, static_cast<int>(std::lround(p.max_delta * s)));
  cv::Mat img = to_rgb8(gaussian_filter(to_unit_float(rgb), sigma, cv::BORDER_REPLICATE));
  // Local shuffles, bottom-right to top-left, each pixel swapped with one at
  // an offset in [-delta, delta) (numpy's randint), so content drifts.
  for (int it = 0; it < p.iterations; ++it)
    for (int h = img.rows - delta; h > delta; --h)
      for (int w = img.cols - delta; w > delta; --w) {
        const int dx = rng.integer(-delta, delta);
        const int dy = rng.integer(-delta, delta);
        std::swap(img.at<cv::Vec3b>(h, w), img.at<cv::Vec3b>(h + dy, w + dx));
      }
  return to_rgb8(gaussian_filter(to_unit_float(img), sigma, cv::BORDER_REPLICATE));
}

cv::Mat motion_blur(const cv::Mat& rgb, int severity, Rng& rng) {
  const auto [radius, sigma] =
      std::array<std::pair<double, double>, 5>{{{6, 1}, {6, 1.5}, {6, 2}, {8, 2}, {9, 2.5}}}[severity - 1];
  const double s = size_scale(rgb.size());
  const double angle = rng.uniform(-45, 45);
  return to_rgb8(line_motion_blur(to_unit_float(rgb), radius * s, sigma * s, angle));
}

cv::Mat zoom_blur(const cv::Mat& rgb, int severity, Rng&) {
  // numpy's arange(1, 1.06 | 1.11 | 1.16 | 1.21 | 1.26, 0.01) has 7, 12, 16,
  // 21 and 26 elements (floating-point end points); the original averages
  // those zooms and the image itself.
  const int zooms = std::array{7, 12, 16, 21, 26}[severity - 1];
  const cv::Mat x = to_unit_float(rgb);
  cv::Mat sum = x.clone(), zoomed;
  const double cx = (rgb.cols - 1) / 2.0, cy = (rgb.rows - 1) / 2.0;
  for (int i = 0; i < zooms; ++i) {
    const double z = 1.0 + 0.01 * i;
    const cv::Matx23d m(z, 0, (1 - z) * cx, 0, z, (1 - z) * cy);
    cv::warpAffine(x, zoomed, m, x.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    sum += zoomed;
  }
  return to_rgb8(sum / (zooms + 1));
}

cv::Mat gaussian_blur(const cv::Mat& rgb, int severity, Rng&) {
  const double sigma = std::array{.4, .6, .7, .8, 1.0}[severity - 1] * size_scale(rgb.size());
  return to_rgb8(gaussian_filter(to_unit_float(rgb), sigma, cv::BORDER_REPLICATE));
}

}  // namespace ecotta::corrupt
