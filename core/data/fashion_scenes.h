#pragma once
#include <cstdint>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "image_set.h"

namespace ecotta::data {

// "Fashion scenes": segmentation data composed from real Fashion-MNIST items.
// Label maps hold 0 for background and 1 + class for an item's pixels.
constexpr int kSceneClasses = 11;

// A pixel is labelled with an item's class where the item, resized to its
// placement size, has a gray value above this (out of 255): faint halo pixels
// are blended into the image but leave the label map as it was (background
// or the label of an item drawn earlier).
constexpr int kSceneLabelThreshold = 48;

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

// A textured background (smooth colour gradient plus low-frequency noise,
// faint stripes and soft blobs), deterministic in seed. No channel exceeds
// kMaxBackgroundValue, so light items stay visible on it.
constexpr int kMaxBackgroundValue = 170;
cv::Mat make_background(int width, int height, uint64_t seed);

// Draws the placements in order over `background` (later items occlude
// earlier ones) and labels every pixel the item visibly covers. Each item is
// resized to `size` x `size` (bilinear) around `center` and clipped to the
// canvas; with a = gray / 255 a pixel becomes (1 - a) * below + a * (a * color).
// Throws DataError for a placement whose item is not in `items28`, items that
// are not single-channel, or a background that is not CV_8UC3.
Scene compose_scene(const ImageSet& items28, const std::vector<Placement>& placements, const cv::Mat& background);

struct SceneOptions {
  int width = 64;
  int height = 64;
  int min_items = 2;
  int max_items = 4;
  float min_size = 20;  // item side length in pixels
  float max_size = 36;
};

// Random placements for one scene (items drawn from `items28`), deterministic
// in seed: min_items..max_items items, each a random item, centre anywhere on
// the canvas (items may hang over the edge), side in [min_size, max_size] and
// a saturated, bright colour. Throws std::invalid_argument for inconsistent
// options or an empty `items28`.
std::vector<Placement> random_placements(const ImageSet& items28, const SceneOptions& options, uint64_t seed);

// `count` scenes: images as an ImageSet (H x W x 3; its labels hold each
// scene's dominant item class, 0..9: the one with most labelled pixels, or the
// last item's when no pixel is labelled) and label maps as a parallel
// H x W x 1 set with the same labels. Deterministic in seed.
struct SceneSet {
  ImageSet images;
  ImageSet label_maps;
};
SceneSet make_scenes(const ImageSet& items28, size_t count, const SceneOptions& options, uint64_t seed);

// The make_scenes seed of training epoch `epoch` (0-based) when every epoch
// trains on newly generated scenes (`ecotta train --fresh-scenes`): a hash of
// (scene_seed, epoch), so epoch e always gets the same scenes and different
// epochs get different ones, and never one of the small seeds of the fixed
// sets (2 * scene_seed for train, 2 * scene_seed + 1 for test).
uint64_t epoch_scene_seed(uint64_t scene_seed, int epoch);

}  // namespace ecotta::data
