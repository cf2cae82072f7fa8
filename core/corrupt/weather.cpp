// Weather (snow, frost, fog, spatter). Size scaling: the random layers (snow
// flakes, plasma fog, liquid spatter) are drawn on the ~32-pixel reference
// grid with CIFAR's parameters and resized to the image; frost's texture is
// drawn at full size with feature sizes times size_scale().
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "families.h"
#include "frost_texture.h"
#include "image_ops.h"

namespace ecotta::corrupt {
namespace {

cv::Mat normal_layer(cv::Size size, double mean, double sd, Rng& rng) {
  cv::Mat layer(size, CV_32F);
  for (auto it = layer.begin<float>(); it != layer.end<float>(); ++it) *it = static_cast<float>(rng.normal(mean, sd));
  return layer;
}

// A single-channel layer repeated on the three channels.
cv::Mat three_channels(const cv::Mat& layer) {
  cv::Mat out;
  cv::merge(std::vector<cv::Mat>{layer, layer, layer}, out);
  return out;
}

// Diamond-square height map of side `mapsize` (a power of two), periodic,
// normalized to [0, 1]: CIFAR-10-C's plasma_fractal, including its quirk of
// perturbing by wibble * U(-wibble, wibble).
cv::Mat plasma_fractal(int mapsize, double decay, Rng& rng) {
  cv::Mat m = cv::Mat::zeros(mapsize, mapsize, CV_64F);
  const auto at = [&](int y, int x) -> double& { return m.at<double>(y % mapsize, x % mapsize); };
  double wibble = 100;
  for (int step = mapsize; step >= 2; step /= 2, wibble /= decay) {
    const int half = step / 2;
    const auto wibbled_mean = [&](double sum) { return sum / 4 + wibble * rng.uniform(-wibble, wibble); };
    for (int y = 0; y < mapsize; y += step)  // squares: centres from their four corners
      for (int x = 0; x < mapsize; x += step)
        at(y + half, x + half) = wibbled_mean(at(y, x) + at(y + step, x) + at(y, x + step) + at(y + step, x + step));
    for (int y = 0; y < mapsize; y += step)  // diamonds on the corner rows
      for (int x = 0; x < mapsize; x += step)
        at(y, x + half) =
            wibbled_mean(at(y + half, x + half) + at(y + mapsize - half, x + half) + at(y, x) + at(y, x + step));
    for (int y = 0; y < mapsize; y += step)  // diamonds on the centre rows
      for (int x = 0; x < mapsize; x += step)
        at(y + half, x) =
            wibbled_mean(at(y + half, x + half) + at(y + half, x + mapsize - half) + at(y, x) + at(y + step, x));
  }
  double lo, hi;
  cv::minMaxLoc(m, &lo, &hi);
  cv::Mat out;
  m.convertTo(out, CV_32F, hi > lo ? 1.0 / (hi - lo) : 0.0, hi > lo ? -lo / (hi - lo) : 0.0);
  return out;
}

}  // namespace

cv::Mat snow(const cv::Mat& rgb, int severity, Rng& rng) {
  struct Params {
    double loc, scale, zoom, threshold, blur_radius, blur_sigma, blend;
  };
  const Params p = std::array<Params, 5>{{{.1, .2, 1, .6, 8, 3, .95},
                                          {.1, .2, 1, .5, 10, 4, .9},
                                          {.15, .3, 1.75, .55, 10, 4, .9},
                                          {.25, .3, 2.25, .6, 12, 6, .85},
                                          {.3, .3, 1.25, .65, 14, 12, .8}}}[severity - 1];
  const cv::Size ref = reference_size(rgb.size());
  // Gaussian flakes on a grid `zoom` times coarser, magnified to the reference
  // grid (the original's clipped_zoom of a reference-size layer).
  const cv::Size coarse(static_cast<int>(std::ceil(ref.width / p.zoom)),
                        static_cast<int>(std::ceil(ref.height / p.zoom)));
  cv::Mat layer = normal_layer(coarse, p.loc, p.scale, rng);
  if (coarse != ref) {
    cv::Mat zoomed;
    cv::resize(layer, zoomed,
               cv::Size(static_cast<int>(std::lround(coarse.width * p.zoom)),
                        static_cast<int>(std::lround(coarse.height * p.zoom))),
               0, 0, cv::INTER_LINEAR);
    layer = zoomed(cv::Rect((zoomed.cols - ref.width) / 2, (zoomed.rows - ref.height) / 2, ref.width, ref.height));
  }
  cv::threshold(layer, layer, p.threshold, 0, cv::THRESH_TOZERO);
  cv::min(layer, 1.0, layer);
  layer = line_motion_blur(layer, p.blur_radius, p.blur_sigma, rng.uniform(-135, -45));
  layer = to_image_size(layer, rgb.size());
  cv::Mat flipped;
  cv::flip(layer, flipped, -1);

  const cv::Mat x = to_unit_float(rgb);
  cv::Mat gray;
  cv::cvtColor(x, gray, cv::COLOR_RGB2GRAY);
  cv::Mat whitened = three_channels(gray * 1.5 + 0.5);
  cv::max(x, whitened, whitened);
  return to_rgb8(p.blend * x + (1 - p.blend) * whitened + three_channels(layer + flipped));
}

cv::Mat frost(const cv::Mat& rgb, int severity, Rng& rng) {
  const auto [image_weight, frost_weight] =
      std::array<std::pair<double, double>, 5>{{{1, .2}, {1, .3}, {.9, .4}, {.85, .4}, {.75, .45}}}[severity - 1];
  const cv::Mat texture = frost_texture(rgb.size(), rng);
  return to_rgb8(image_weight * to_unit_float(rgb) + frost_weight * texture);
}

cv::Mat fog(const cv::Mat& rgb, int severity, Rng& rng) {
  const auto [strength, decay] =
      std::array<std::pair<double, double>, 5>{{{.2, 3}, {.5, 3}, {.75, 2.5}, {1, 2}, {1.5, 1.75}}}[severity - 1];
  const cv::Size ref = reference_size(rgb.size());
  int mapsize = 2;
  while (mapsize < std::max(ref.width, ref.height)) mapsize *= 2;
  const cv::Mat plasma = to_image_size(plasma_fractal(mapsize, decay, rng)(cv::Rect({0, 0}, ref)), rgb.size());
  const cv::Mat x = to_unit_float(rgb);
  double max_val;
  cv::minMaxLoc(x.reshape(1), nullptr, &max_val);
  return to_rgb8((x + three_channels(strength * plasma)) * (max_val / (max_val + strength)));
}

cv::Mat spatter(const cv::Mat& rgb, int severity, Rng& rng) {
  struct Params {
    double loc, scale, sigma, threshold, intensity;
    bool mud;
  };
  const Params p = std::array<Params, 5>{{{.62, .1, .7, .7, .5, false},
                                          {.65, .1, .8, .7, .5, false},
                                          {.65, .3, 1, .69, .5, false},
                                          {.65, .1, .7, .69, .6, true},
                                          {.65, .1, .5, .68, .6, true}}}[severity - 1];
  const cv::Size ref = reference_size(rgb.size());
  cv::Mat liquid = gaussian_filter(normal_layer(ref, p.loc, p.scale, rng), p.sigma, cv::BORDER_REPLICATE);
  cv::threshold(liquid, liquid, p.threshold, 0, cv::THRESH_TOZERO);
  const cv::Mat x = to_unit_float(rgb);

  if (!p.mud) {
    // Water drops: shading from the distance to the drops' edges, embossed.
    cv::Mat liquid8, edges, dist;
    liquid.convertTo(liquid8, CV_8U, 255);
    cv::Canny(liquid8, edges, 50, 150);
    cv::distanceTransform(255 - edges, dist, cv::DIST_L2, 5);
    cv::threshold(dist, dist, 20, 20, cv::THRESH_TRUNC);
    cv::blur(dist, dist, {3, 3});
    cv::Mat shade;
    dist.convertTo(shade, CV_8U);
    cv::equalizeHist(shade, shade);
    const cv::Matx33f emboss(-2, -1, 0, -1, 1, 1, 0, 1, 2);
    cv::filter2D(shade, shade, CV_8U, emboss);
    cv::blur(shade, shade, {3, 3});
    shade.convertTo(shade, CV_32F);
    cv::Mat m = liquid.mul(shade);
    double max_m;
    cv::minMaxLoc(m, nullptr, &max_m);
    m = max_m > 0 ? m * (p.intensity / max_m) : cv::Mat::zeros(m.size(), m.type());
    m = to_image_size(m, rgb.size());
    cv::Mat tint;  // pale turquoise water
    cv::merge(std::vector<cv::Mat>{m * (175 / 255.0), m * (238 / 255.0), m * (238 / 255.0)}, tint);
    return to_rgb8(x + tint);
  }
  // Mud: opaque brown blobs where the smoothed liquid mask is nearly solid.
  cv::Mat m;
  cv::threshold(liquid, m, 0, 1, cv::THRESH_BINARY);
  m = gaussian_filter(m, p.intensity, cv::BORDER_REPLICATE);
  cv::threshold(m, m, 0.8, 0, cv::THRESH_TOZERO);
  m = to_image_size(m, rgb.size());
  cv::Mat mud;  // brown, 1 - m of the image showing through
  cv::merge(std::vector<cv::Mat>{m * (63 / 255.0), m * (42 / 255.0), m * (20 / 255.0)}, mud);
  return to_rgb8(x.mul(three_channels(1 - m)) + mud);
}

}  // namespace ecotta::corrupt
