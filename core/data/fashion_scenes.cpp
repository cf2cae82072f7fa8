#include "fashion_scenes.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

#include <opencv2/imgproc.hpp>

#include "data_error.h"
#include "splitmix.h"

namespace ecotta::data {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr int kItemClasses = kSceneClasses - 1;

using Rng = SplitMixRng;

// A random colour of full saturation range 0.65..1 and value 0.85..1 (HSV),
// so it stands out from the darker, muted background.
cv::Vec3b saturated_colour(Rng& rng) {
  const double h = rng.uniform(0, 6), s = rng.uniform(0.65, 1.0), v = rng.uniform(0.85, 1.0);
  const int sector = std::min(5, static_cast<int>(h));
  const double f = h - sector;
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = v, g = t, b = p;
  switch (sector) {
    case 0: r = v; g = t; b = p; break;
    case 1: r = q; g = v; b = p; break;
    case 2: r = p; g = v; b = t; break;
    case 3: r = p; g = q; b = v; break;
    case 4: r = t; g = p; b = v; break;
    default: r = v; g = p; b = q; break;
  }
  return {cv::saturate_cast<uint8_t>(r * 255), cv::saturate_cast<uint8_t>(g * 255), cv::saturate_cast<uint8_t>(b * 255)};
}

void check_items(const ImageSet& items28) {
  if (items28.channels != 1)
    throw DataError("scene items must be single-channel gray images, got " + std::to_string(items28.channels) +
                    " channels");
}

uint8_t dominant_class(const cv::Mat& labels, const ImageSet& items28, const std::vector<Placement>& placements) {
  std::array<size_t, kSceneClasses> counts{};
  for (int y = 0; y < labels.rows; ++y) {
    const uint8_t* row = labels.ptr<uint8_t>(y);
    for (int x = 0; x < labels.cols; ++x) counts[row[x]]++;
  }
  const auto best = std::max_element(counts.begin() + 1, counts.end());
  if (*best > 0) return static_cast<uint8_t>(best - counts.begin() - 1);
  return placements.empty() ? 0 : items28.labels[placements.back().item];
}

}  // namespace

cv::Mat make_background(int width, int height, uint64_t seed) {
  if (width <= 0 || height <= 0)
    throw std::invalid_argument("background size must be positive, got " + std::to_string(width) + "x" +
                                std::to_string(height));
  Rng rng(seed);
  // Smooth gradient between two muted colours (a gray level plus a modest
  // tint) along a random direction.
  auto muted = [&rng] {
    const double gray = rng.uniform(35, 115);
    cv::Vec3f c;
    for (int k = 0; k < 3; ++k) c[k] = static_cast<float>(gray + rng.uniform(-30, 30));
    return c;
  };
  const cv::Vec3f from = muted(), to = muted();
  const double angle = rng.uniform(0, 2 * kPi);
  const double dx = std::cos(angle), dy = std::sin(angle);
  const double span = std::abs(dx) * (width - 1) + std::abs(dy) * (height - 1);
  const double offset = std::min(0.0, dx * (width - 1)) + std::min(0.0, dy * (height - 1));

  // Low-frequency colour noise: a coarse random grid, upsampled smoothly.
  const int grid_w = std::max(2, width / 12 + 2), grid_h = std::max(2, height / 12 + 2);
  cv::Mat coarse(grid_h, grid_w, CV_32FC3), noise;
  for (int y = 0; y < grid_h; ++y)
    for (int x = 0; x < grid_w; ++x)
      for (int k = 0; k < 3; ++k) coarse.at<cv::Vec3f>(y, x)[k] = static_cast<float>(rng.uniform(-18, 18));
  cv::resize(coarse, noise, cv::Size(width, height), 0, 0, cv::INTER_CUBIC);

  // Faint stripes of random period and orientation.
  const double stripe_angle = rng.uniform(0, kPi);
  const double stripe_freq = 2 * kPi / rng.uniform(6, 20);
  const double stripe_phase = rng.uniform(0, 2 * kPi);
  const double stripe_amp = rng.uniform(0, 10);
  const double sx = std::cos(stripe_angle) * stripe_freq, sy = std::sin(stripe_angle) * stripe_freq;

  // A few soft blobs that lighten or darken the colour locally.
  struct Blob {
    double x, y, inv_two_sigma2;
    cv::Vec3f shift;
  };
  std::vector<Blob> blobs(static_cast<size_t>(rng.between(1, 3)));
  for (Blob& b : blobs) {
    b.x = rng.uniform(0, width);
    b.y = rng.uniform(0, height);
    const double sigma = rng.uniform(0.08, 0.2) * std::max(width, height);
    b.inv_two_sigma2 = 1.0 / (2 * sigma * sigma);
    for (int k = 0; k < 3; ++k) b.shift[k] = static_cast<float>(rng.uniform(-25, 25));
  }

  cv::Mat out(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const double t = span > 0 ? (dx * x + dy * y - offset) / span : 0.5;
      const double stripe = stripe_amp * std::sin(sx * x + sy * y + stripe_phase);
      cv::Vec3f v = from * static_cast<float>(1 - t) + to * static_cast<float>(t) + noise.at<cv::Vec3f>(y, x);
      for (const Blob& b : blobs) {
        const double d2 = (x - b.x) * (x - b.x) + (y - b.y) * (y - b.y);
        v += b.shift * static_cast<float>(std::exp(-d2 * b.inv_two_sigma2));
      }
      cv::Vec3b& px = out.at<cv::Vec3b>(y, x);
      for (int k = 0; k < 3; ++k)
        px[k] = cv::saturate_cast<uint8_t>(std::clamp<double>(v[k] + stripe, 0.0, kMaxBackgroundValue));
    }
  }
  return out;
}

Scene compose_scene(const ImageSet& items28, const std::vector<Placement>& placements, const cv::Mat& background) {
  if (background.empty() || background.type() != CV_8UC3)
    throw DataError("scene background must be a non-empty 8-bit RGB image (CV_8UC3)");
  if (!placements.empty()) check_items(items28);
  Scene scene;
  scene.image = background.clone();
  scene.labels = cv::Mat::zeros(background.size(), CV_8UC1);
  cv::Mat item;
  for (const Placement& p : placements) {
    if (p.item >= items28.size())
      throw DataError("placement names item " + std::to_string(p.item) + " but the item set holds " +
                      std::to_string(items28.size()));
    const uint8_t item_class = items28.labels[p.item];
    if (item_class >= kItemClasses)
      throw DataError("item " + std::to_string(p.item) + " has class " + std::to_string(item_class) +
                      "; scenes hold classes 0.." + std::to_string(kItemClasses - 1));
    if (!(p.size >= 1.0f) || !std::isfinite(p.center.x) || !std::isfinite(p.center.y))
      throw DataError("placement of item " + std::to_string(p.item) + " needs a side of at least 1 px and a finite centre");
    const int side = static_cast<int>(std::lround(p.size));
    cv::resize(items28.image(p.item), item, cv::Size(side, side), 0, 0, cv::INTER_LINEAR);
    const long x0 = std::lround(p.center.x - side / 2.0), y0 = std::lround(p.center.y - side / 2.0);
    const int first_row = static_cast<int>(std::max(0L, -y0));
    const int last_row = static_cast<int>(std::min<long>(side, scene.image.rows - y0));
    const int first_col = static_cast<int>(std::max(0L, -x0));
    const int last_col = static_cast<int>(std::min<long>(side, scene.image.cols - x0));
    const cv::Vec3f color(p.color[0], p.color[1], p.color[2]);
    for (int r = first_row; r < last_row; ++r) {
      const uint8_t* gray = item.ptr<uint8_t>(r);
      auto* pixels = scene.image.ptr<cv::Vec3b>(static_cast<int>(y0 + r));
      auto* labels = scene.labels.ptr<uint8_t>(static_cast<int>(y0 + r));
      for (int c = first_col; c < last_col; ++c) {
        const uint8_t g = gray[c];
        if (g == 0) continue;
        const float a = g / 255.0f;
        cv::Vec3b& px = pixels[x0 + c];
        for (int k = 0; k < 3; ++k) px[k] = cv::saturate_cast<uint8_t>((1 - a) * px[k] + a * a * color[k]);
        if (g > kSceneLabelThreshold) labels[x0 + c] = static_cast<uint8_t>(item_class + 1);
      }
    }
  }
  return scene;
}

std::vector<Placement> random_placements(const ImageSet& items28, const SceneOptions& options, uint64_t seed) {
  if (items28.size() == 0) throw std::invalid_argument("cannot place items from an empty item set");
  if (options.width <= 0 || options.height <= 0)
    throw std::invalid_argument("scene size must be positive, got " + std::to_string(options.width) + "x" +
                                std::to_string(options.height));
  if (options.min_items < 1 || options.max_items < options.min_items)
    throw std::invalid_argument("scene item count range [" + std::to_string(options.min_items) + ", " +
                                std::to_string(options.max_items) + "] must satisfy 1 <= min <= max");
  if (!(options.min_size >= 1.0f) || !(options.max_size >= options.min_size))
    throw std::invalid_argument("item size range [" + std::to_string(options.min_size) + ", " +
                                std::to_string(options.max_size) + "] must satisfy 1 <= min <= max");
  Rng rng(seed);
  std::vector<Placement> placements(static_cast<size_t>(rng.between(options.min_items, options.max_items)));
  for (Placement& p : placements) {
    p.item = rng.below(items28.size());
    p.center.x = static_cast<float>(rng.uniform(0, options.width));
    p.center.y = static_cast<float>(rng.uniform(0, options.height));
    p.size = static_cast<float>(rng.uniform(options.min_size, options.max_size));
    p.color = saturated_colour(rng);
  }
  return placements;
}

SceneSet make_scenes(const ImageSet& items28, size_t count, const SceneOptions& options, uint64_t seed) {
  check_items(items28);
  SceneSet out;
  out.images.height = out.label_maps.height = options.height;
  out.images.width = out.label_maps.width = options.width;
  out.images.channels = 3;
  out.label_maps.channels = 1;
  out.images.pixels.reserve(count * out.images.image_bytes());
  out.label_maps.pixels.reserve(count * out.label_maps.image_bytes());
  for (size_t i = 0; i < count; ++i) {
    const cv::Mat background = make_background(options.width, options.height, derive_seed(seed, 2 * i));
    const std::vector<Placement> placements = random_placements(items28, options, derive_seed(seed, 2 * i + 1));
    const Scene scene = compose_scene(items28, placements, background);
    const uint8_t label = dominant_class(scene.labels, items28, placements);
    out.images.push_back(scene.image, label);
    out.label_maps.push_back(scene.labels, label);
  }
  return out;
}

uint64_t epoch_scene_seed(uint64_t scene_seed, int epoch) {
  if (epoch < 0) throw std::invalid_argument("epoch must be >= 0, got " + std::to_string(epoch));
  constexpr uint64_t kFreshScenes = 0x6672657368ULL;  // "fresh": keeps these seeds apart from other hashes
  return hash_of({kFreshScenes, scene_seed, static_cast<uint64_t>(epoch)});
}

}  // namespace ecotta::data
