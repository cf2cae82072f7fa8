#pragma once
#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "image_set.h"

namespace ecotta::data {

// "Fashion scenes": segmentation data composed from real Fashion-MNIST items.
// Label maps hold 0 for background and 1 + class for an item's pixels.
constexpr int kSceneClasses = 11;

struct Scene {
  cv::Mat image;   // CV_8UC3, RGB
  cv::Mat labels;  // CV_8UC1, 0 = background, 1..10 = Fashion-MNIST class + 1
};

// One item drawn into a scene: which source image, where its centre lands,
// its side length in pixels, and the colour its gray values are tinted with.
struct Placement {
  size_t item = 0;
  cv::Point2f center;
  float size = 28;
  cv::Vec3b color{255, 255, 255};
};

// A textured background (smooth colour gradient plus low-frequency noise),
// deterministic in seed.
cv::Mat make_background(int width, int height, uint64_t seed);

// Draws the placements in order over `background` (later items occlude
// earlier ones) and labels every pixel the item visibly covers.
Scene compose_scene(const ImageSet& items28, const std::vector<Placement>& placements, const cv::Mat& background);

struct SceneOptions {
  int width = 64;
  int height = 64;
  int min_items = 2;
  int max_items = 4;
  float min_size = 20;  // item side length in pixels
  float max_size = 36;
};

// Random placements for one scene (items drawn from `items28`), deterministic in seed.
std::vector<Placement> random_placements(const ImageSet& items28, const SceneOptions& options, uint64_t seed);

// `count` scenes: images as an ImageSet (H x W x 3; its labels hold each
// scene's dominant item class) and label maps as a parallel H x W x 1 set.
struct SceneSet {
  ImageSet images;
  ImageSet label_maps;
};
SceneSet make_scenes(const ImageSet& items28, size_t count, const SceneOptions& options, uint64_t seed);

}  // namespace ecotta::data
