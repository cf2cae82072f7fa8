#include "image_ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace ecotta::corrupt {

cv::Mat to_unit_float(const cv::Mat& rgb8) {
  cv::Mat out;
  rgb8.convertTo(out, CV_32FC3, 1.0 / 255.0);
  return out;
}

cv::Mat to_rgb8(const cv::Mat& unit) {
  cv::Mat out;
  unit.convertTo(out, CV_8UC3, 255.0);  // saturating: clips and rounds
  return out;
}

double size_scale(cv::Size image) { return std::min(image.width, image.height) / 32.0; }

cv::Size reference_size(cv::Size image) {
  const double s = size_scale(image);
  return {std::max(1, static_cast<int>(std::lround(image.width / s))),
          std::max(1, static_cast<int>(std::lround(image.height / s)))};
}

cv::Mat to_image_size(const cv::Mat& layer, cv::Size image) {
  if (layer.size() == image) return layer;
  cv::Mat out;
  cv::resize(layer, out, image, 0, 0, cv::INTER_LINEAR);
  return out;
}

cv::Mat gaussian_filter(const cv::Mat& img, double sigma, int border, double truncate) {
  const int radius = static_cast<int>(truncate * sigma + 0.5);
  if (radius <= 0) return img.clone();
  cv::Mat out;
  cv::GaussianBlur(img, out, cv::Size(2 * radius + 1, 2 * radius + 1), sigma, sigma, border);
  return out;
}

cv::Mat line_motion_blur(const cv::Mat& img, double radius, double sigma, double angle_deg) {
  const int taps = radius > 0 ? 2 * static_cast<int>(std::ceil(radius)) + 1 : 1;
  const double sd = std::max(sigma, 1e-12);
  std::vector<double> weight(taps);
  double total = 0;
  for (int i = 0; i < taps; ++i) total += weight[i] = std::exp(-(double(i) * i) / (2 * sd * sd));
  const double angle = angle_deg * CV_PI / 180.0;
  std::vector<cv::Point> offset(taps);
  int left = 0, right = 0, top = 0, bottom = 0;
  for (int i = 0; i < taps; ++i) {
    offset[i] = {static_cast<int>(std::ceil(i * std::cos(angle) - 0.5)),
                 static_cast<int>(std::ceil(i * std::sin(angle) - 0.5))};
    left = std::max(left, -offset[i].x);
    right = std::max(right, offset[i].x);
    top = std::max(top, -offset[i].y);
    bottom = std::max(bottom, offset[i].y);
  }
  cv::Mat padded;
  cv::copyMakeBorder(img, padded, top, bottom, left, right, cv::BORDER_REPLICATE);
  cv::Mat out = cv::Mat::zeros(img.size(), img.type());
  for (int i = 0; i < taps; ++i) {
    const double w = weight[i] / total;
    if (w < 1e-9) continue;  // far tail of a short kernel: below float precision of the sum
    const cv::Rect window(left + offset[i].x, top + offset[i].y, img.cols, img.rows);
    cv::scaleAdd(padded(window), w, out, out);
  }
  return out;
}

}  // namespace ecotta::corrupt
