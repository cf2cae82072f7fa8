// Night: a low-light capture of the scene. Not part of CIFAR-10-C; defined
// here for the segmentation and video benchmarks (ACDC's "night" condition).
// The clean image is taken as sRGB-like (gamma 2.2), its shadows crushed by an
// extra gamma, then in linear light it is underexposed, tinted towards blue
// (moonlight / sodium-free street light) and captured by a sensor with shot
// noise (Poisson in photo-electrons) and Gaussian read noise, and re-encoded.
// Size scaling: none, sensor noise is per pixel.
#include <algorithm>
#include <array>
#include <cmath>

#include <opencv2/core.hpp>

#include "families.h"

namespace ecotta::corrupt {

cv::Mat night(const cv::Mat& rgb, int severity, Rng& rng) {
  struct Params {
    double gamma;       // extra gamma on the encoded image: crushes shadows
    double brightness;  // encoded brightness of white: exposure = brightness^2.2
    double blue_tint;   // red loses this fraction, green half of it
    double full_well;   // photo-electrons a white pixel would collect at full exposure
    double read_noise;  // electrons, standard deviation
  };
  const Params p = std::array<Params, 5>{{{1.1, .65, .04, 4000, 2.0},
                                          {1.15, .5, .06, 2500, 2.5},
                                          {1.2, .4, .08, 1600, 3.0},
                                          {1.3, .3, .10, 1000, 3.5},
                                          {1.4, .22, .12, 600, 4.0}}}[severity - 1];
  constexpr double kGamma = 2.2;
  const double exposure = std::pow(p.brightness, kGamma);
  const std::array<double, 3> tint{1 - p.blue_tint, 1 - p.blue_tint / 2, 1};
  // Expected photo-electrons for each 8-bit value and channel.
  std::array<std::array<double, 256>, 3> electrons;
  for (int v = 0; v < 256; ++v) {
    const double linear = std::pow(std::pow(v / 255.0, p.gamma), kGamma) * exposure;
    for (int c = 0; c < 3; ++c) electrons[c][v] = linear * tint[c] * p.full_well;
  }
  cv::Mat out(rgb.size(), CV_8UC3);
  for (int y = 0; y < rgb.rows; ++y) {
    const uint8_t* src = rgb.ptr<uint8_t>(y);
    uint8_t* dst = out.ptr<uint8_t>(y);
    for (int i = 0; i < rgb.cols * 3; ++i) {
      const double signal = static_cast<double>(rng.poisson(electrons[i % 3][src[i]])) + rng.normal(0, p.read_noise);
      const double linear = std::max(0.0, signal / p.full_well);
      dst[i] = cv::saturate_cast<uint8_t>(255.0 * std::pow(linear, 1 / kGamma));
    }
  }
  return out;
}

}  // namespace ecotta::corrupt
