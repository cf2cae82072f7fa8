#include "frost_texture.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "image_ops.h"

namespace ecotta::corrupt {
namespace {

// Smooth value noise: a coarse grid of uniform values, one cell per `cell`
// reference pixels, interpolated bicubically to `size`.
cv::Mat value_noise(cv::Size size, cv::Size ref, double cell, Rng& rng) {
  cv::Mat grid(static_cast<int>(std::ceil(ref.height / cell)) + 2, static_cast<int>(std::ceil(ref.width / cell)) + 2,
               CV_32F);
  for (auto it = grid.begin<float>(); it != grid.end<float>(); ++it) *it = static_cast<float>(rng.uniform());
  cv::Mat out;
  cv::resize(grid, out, size, 0, 0, cv::INTER_CUBIC);
  return out;
}

// One ice dendrite on an 8-bit canvas: a main needle with pairs of side
// branches at +-60 degrees that shorten towards its tip.
void draw_dendrite(cv::Mat& canvas, double s, Rng& rng) {
  const cv::Point2d start(rng.uniform(0, canvas.cols), rng.uniform(0, canvas.rows));
  const double angle = rng.uniform(0, 2 * CV_PI);
  const double length = rng.uniform(8, 20) * s;
  const double value = rng.uniform(150, 255);
  const int main_width = std::max(1, static_cast<int>(std::lround(0.5 * s)));
  const int branch_width = std::max(1, static_cast<int>(std::lround(0.35 * s)));
  constexpr int kShift = 4;  // sub-pixel coordinates for LINE_AA
  const auto fixed = [](cv::Point2d p) {
    return cv::Point(cvRound(p.x * (1 << kShift)), cvRound(p.y * (1 << kShift)));
  };
  const cv::Point2d dir(std::cos(angle), std::sin(angle));
  cv::line(canvas, fixed(start), fixed(start + length * dir), cv::Scalar(value), main_width, cv::LINE_AA, kShift);
  const int branches = static_cast<int>(length / (2.5 * s));
  for (int k = 1; k <= branches; ++k) {
    const double t = static_cast<double>(k) / (branches + 1);
    const cv::Point2d root = start + t * length * dir;
    for (const double side : {-1.0, 1.0}) {
      const double a = angle + side * CV_PI / 3;
      const double branch = length * rng.uniform(0.15, 0.4) * (1 - 0.5 * t);
      cv::line(canvas, fixed(root), fixed(root + branch * cv::Point2d(std::cos(a), std::sin(a))),
               cv::Scalar(0.8 * value), branch_width, cv::LINE_AA, kShift);
    }
  }
}

}  // namespace

cv::Mat frost_texture(cv::Size size, Rng& rng) {
  const double s = size_scale(size);
  const cv::Size ref = reference_size(size);

  const cv::Mat haze = 0.25 + 0.45 * (0.55 * value_noise(size, ref, 8, rng) + 0.45 * value_noise(size, ref, 3, rng));
  cv::Mat grain(ref, CV_32F);
  for (auto it = grain.begin<float>(); it != grain.end<float>(); ++it) *it = static_cast<float>(rng.uniform());
  grain = to_image_size(grain, size);

  cv::Mat canvas = cv::Mat::zeros(size, CV_8U);
  const int dendrites = std::max(1, static_cast<int>(std::lround(7.0 * ref.area() / 1024.0)));
  for (int i = 0; i < dendrites; ++i) draw_dendrite(canvas, s, rng);
  cv::Mat crystals, glow;
  canvas.convertTo(crystals, CV_32F, 1.0 / 255.0);
  cv::GaussianBlur(crystals, glow, cv::Size(), 1.2 * s);

  cv::Mat ice = haze.mul(0.75 + 0.25 * grain) + 0.6 * crystals + 0.5 * glow;
  cv::min(cv::max(ice, 0.0), 1.0, ice);
  cv::Mat rgb;
  cv::merge(std::vector<cv::Mat>{0.82 * ice, 0.92 * ice, ice}, rgb);
  return rgb;
}

}  // namespace ecotta::corrupt
