// Digital and photometric changes (brightness, contrast, saturate, elastic,
// pixelate, jpeg). Size scaling: elastic displacements and pixelate blocks are
// set on the ~32-pixel reference grid and magnified with the image; the
// photometric ones and JPEG work per pixel or per 8x8 block and do not scale.
#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <tuple>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "families.h"
#include "image_ops.h"

namespace ecotta::corrupt {
namespace {

// Converts to HSV (H in degrees, S and V in [0, 1]), lets `edit` change the
// channel `index` in place, and converts back.
template <typename F>
cv::Mat edit_hsv_channel(const cv::Mat& rgb, int index, F edit) {
  cv::Mat hsv;
  cv::cvtColor(to_unit_float(rgb), hsv, cv::COLOR_RGB2HSV);
  std::vector<cv::Mat> planes;
  cv::split(hsv, planes);
  edit(planes[index]);
  cv::min(cv::max(planes[index], 0.0), 1.0, planes[index]);
  cv::merge(planes, hsv);
  cv::Mat out;
  cv::cvtColor(hsv, out, cv::COLOR_HSV2RGB);
  return to_rgb8(out);
}

cv::Mat uniform_field(cv::Size size, Rng& rng) {
  cv::Mat field(size, CV_32F);
  for (auto it = field.begin<float>(); it != field.end<float>(); ++it) *it = static_cast<float>(rng.uniform(-1, 1));
  return field;
}

}  // namespace

cv::Mat brightness(const cv::Mat& rgb, int severity, Rng&) {
  const double shift = std::array{.05, .1, .15, .2, .3}[severity - 1];
  return edit_hsv_channel(rgb, 2, [&](cv::Mat& v) { v += shift; });
}

cv::Mat saturate(const cv::Mat& rgb, int severity, Rng&) {
  const auto [gain, shift] =
      std::array<std::pair<double, double>, 5>{{{.3, 0}, {.1, 0}, {1.5, 0}, {2, .1}, {2.5, .2}}}[severity - 1];
  // Plain copies: a lambda may not capture structured bindings before C++20 (clang refuses).
  return edit_hsv_channel(rgb, 1, [g = gain, b = shift](cv::Mat& s) { s = s * g + b; });
}

cv::Mat contrast(const cv::Mat& rgb, int severity, Rng&) {
  const double c = std::array{.75, .5, .4, .3, .15}[severity - 1];
  const cv::Mat x = to_unit_float(rgb);
  const cv::Scalar means = cv::mean(x);  // per channel
  return to_rgb8((x - means) * c + means);
}

cv::Mat elastic_transform(const cv::Mat& rgb, int severity, Rng& rng) {
  // (alpha, sigma, affine) as fractions of the image's shorter side (32 in CIFAR).
  const auto [alpha, sigma, affine] = std::array<std::tuple<double, double, double>, 5>{
      {{0, 0, .08}, {.05, .2, .07}, {.08, .06, .06}, {.1, .04, .05}, {.1, .03, .03}}}[severity - 1];
  const cv::Size size = rgb.size();
  const int shorter = std::min(size.width, size.height);

  // Random affine: three points around the centre each moved by up to affine * shorter.
  const cv::Point2f centre(static_cast<float>(size.width / 2), static_cast<float>(size.height / 2));
  const float sq = static_cast<float>(shorter / 3);
  const std::array<cv::Point2f, 3> from{centre + cv::Point2f(sq, sq), centre + cv::Point2f(sq, -sq),
                                        centre - cv::Point2f(sq, sq)};
  std::array<cv::Point2f, 3> to = from;
  const double jitter = affine * shorter;
  for (auto& p : to) {
    p.x += static_cast<float>(rng.uniform(-jitter, jitter));
    p.y += static_cast<float>(rng.uniform(-jitter, jitter));
  }
  cv::Mat warped;
  cv::warpAffine(to_unit_float(rgb), warped, cv::getAffineTransform(from.data(), to.data()), size, cv::INTER_LINEAR,
                 cv::BORDER_REFLECT_101);
  if (alpha == 0) return to_rgb8(warped);

  // Elastic field: smoothed uniform noise on the reference grid (in reference
  // pixels), magnified to the image and converted to image pixels.
  const cv::Size ref = reference_size(size);
  const double s = size_scale(size);
  cv::Mat dx = gaussian_filter(uniform_field(ref, rng), 32 * sigma, cv::BORDER_REFLECT, 3.0) * (32 * alpha);
  cv::Mat dy = gaussian_filter(uniform_field(ref, rng), 32 * sigma, cv::BORDER_REFLECT, 3.0) * (32 * alpha);
  dx = to_image_size(dx, size) * s;
  dy = to_image_size(dy, size) * s;
  for (int y = 0; y < size.height; ++y) {
    float* px = dx.ptr<float>(y);
    float* py = dy.ptr<float>(y);
    for (int x = 0; x < size.width; ++x) {
      px[x] += static_cast<float>(x);
      py[x] += static_cast<float>(y);
    }
  }
  cv::Mat out;
  cv::remap(warped, out, dx, dy, cv::INTER_LINEAR, cv::BORDER_REFLECT);
  return to_rgb8(out);
}

cv::Mat pixelate(const cv::Mat& rgb, int severity, Rng&) {
  // Box-downscale the reference grid by c (32 -> int(32 c)), so blocks are
  // 1/c reference pixels wide at every image size; nearest-neighbour back up.
  const double c = std::array{.95, .9, .85, .75, .65}[severity - 1];
  const cv::Size ref = reference_size(rgb.size());
  const cv::Size small(std::max(1, static_cast<int>(ref.width * c)), std::max(1, static_cast<int>(ref.height * c)));
  cv::Mat down, out;
  cv::resize(rgb, down, small, 0, 0, cv::INTER_AREA);
  cv::resize(down, out, rgb.size(), 0, 0, cv::INTER_NEAREST_EXACT);
  return out;
}

cv::Mat jpeg_compression(const cv::Mat& rgb, int severity, Rng&) {
  const int quality = std::array{80, 65, 58, 50, 40}[severity - 1];
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uint8_t> bytes;
  if (!cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, quality}))
    throw std::runtime_error("jpeg_compression: OpenCV could not encode a JPEG");
  const cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_COLOR);
  if (decoded.empty()) throw std::runtime_error("jpeg_compression: OpenCV could not decode its own JPEG");
  cv::Mat out;
  cv::cvtColor(decoded, out, cv::COLOR_BGR2RGB);
  return out;
}

}  // namespace ecotta::corrupt
