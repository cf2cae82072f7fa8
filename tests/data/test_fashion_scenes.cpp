#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <set>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "data/data_error.h"
#include "data/fashion_mnist.h"
#include "data/fashion_scenes.h"

using namespace ecotta::data;

namespace {

const ImageSet& real_items() {
  static const ImageSet items = load_fashion_mnist(default_data_dir(), Split::Test, 300);
  return items;
}

// Two synthetic 28x28 items: a solid white square of class 2 and a faint
// (below the label threshold) square of class 5.
ImageSet synthetic_items() {
  ImageSet set;
  set.height = 28;
  set.width = 28;
  set.channels = 1;
  set.push_back(cv::Mat(28, 28, CV_8UC1, cv::Scalar(255)), 2);
  set.push_back(cv::Mat(28, 28, CV_8UC1, cv::Scalar(kSceneLabelThreshold - 8)), 5);
  return set;
}

bool same(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

Placement place(size_t item, float x, float y, float size, cv::Vec3b color) {
  Placement p;
  p.item = item;
  p.center = {x, y};
  p.size = size;
  p.color = color;
  return p;
}

}  // namespace

TEST(FashionScenes, BackgroundIsDeterministicTexturedAndDark) {
  const cv::Mat a = make_background(64, 48, 7), b = make_background(64, 48, 7), c = make_background(64, 48, 8);
  ASSERT_EQ(a.type(), CV_8UC3);
  EXPECT_EQ(a.cols, 64);
  EXPECT_EQ(a.rows, 48);
  EXPECT_TRUE(same(a, b));
  EXPECT_FALSE(same(a, c));
  double lo, hi;
  cv::minMaxLoc(a.reshape(1), &lo, &hi);
  EXPECT_LE(hi, kMaxBackgroundValue);
  cv::Scalar mean, stddev;
  cv::meanStdDev(a, mean, stddev);
  for (int k = 0; k < 3; ++k) EXPECT_GT(stddev[k], 2.0) << "channel " << k << " is flat";
  EXPECT_THROW(make_background(0, 10, 1), std::invalid_argument);
}

TEST(FashionScenes, SolidItemIsLabelledExactlyWhereDrawn) {
  const ImageSet items = synthetic_items();
  const cv::Mat bg = make_background(64, 64, 3);
  const cv::Vec3b red(250, 20, 20);
  const Scene s = compose_scene(items, {place(0, 32, 32, 20, red)}, bg);
  ASSERT_EQ(s.labels.type(), CV_8UC1);
  ASSERT_EQ(s.image.type(), CV_8UC3);
  for (int y = 0; y < 64; ++y)
    for (int x = 0; x < 64; ++x) {
      const bool inside = x >= 22 && x < 42 && y >= 22 && y < 42;
      ASSERT_EQ(s.labels.at<uint8_t>(y, x), inside ? 3 : 0) << x << "," << y;
      ASSERT_EQ(s.image.at<cv::Vec3b>(y, x), inside ? red : bg.at<cv::Vec3b>(y, x)) << x << "," << y;
    }
}

TEST(FashionScenes, LaterItemOccludesEarlierOne) {
  ImageSet items = synthetic_items();
  items.push_back(cv::Mat(28, 28, CV_8UC1, cv::Scalar(255)), 7);
  const cv::Mat bg = make_background(64, 64, 4);
  const cv::Vec3b red(250, 20, 20), green(20, 250, 20);
  // Item 0 covers [10, 30), item 2 covers [20, 40) in both axes.
  const Scene s = compose_scene(items, {place(0, 20, 20, 20, red), place(2, 30, 30, 20, green)}, bg);
  EXPECT_EQ(s.labels.at<uint8_t>(15, 15), 3);
  EXPECT_EQ(s.image.at<cv::Vec3b>(15, 15), red);
  EXPECT_EQ(s.labels.at<uint8_t>(25, 25), 8);  // overlap: the later item wins
  EXPECT_EQ(s.image.at<cv::Vec3b>(25, 25), green);
  EXPECT_EQ(s.labels.at<uint8_t>(35, 35), 8);
  EXPECT_EQ(s.labels.at<uint8_t>(45, 45), 0);
  EXPECT_EQ(cv::countNonZero(s.labels == 3), 20 * 20 - 10 * 10);
  EXPECT_EQ(cv::countNonZero(s.labels == 8), 20 * 20);

  // Drawn the other way round, the overlap belongs to item 0.
  const Scene r = compose_scene(items, {place(2, 30, 30, 20, green), place(0, 20, 20, 20, red)}, bg);
  EXPECT_EQ(r.labels.at<uint8_t>(25, 25), 3);
}

TEST(FashionScenes, FaintItemIsBlendedButNotLabelled) {
  const ImageSet items = synthetic_items();
  const cv::Mat bg = make_background(64, 64, 5);
  const cv::Vec3b white(255, 255, 255);
  const Scene alone = compose_scene(items, {place(1, 32, 32, 20, white)}, bg);
  EXPECT_EQ(cv::countNonZero(alone.labels), 0);
  EXPECT_FALSE(same(alone.image, bg));
  // Over a labelled item, the faint one leaves the labels as they were.
  const Scene over = compose_scene(items, {place(0, 32, 32, 20, white), place(1, 32, 32, 20, white)}, bg);
  EXPECT_EQ(cv::countNonZero(over.labels == 3), 400);
}

TEST(FashionScenes, ItemsHangingOverTheEdgeAreClipped) {
  const ImageSet items = synthetic_items();
  const cv::Mat bg = make_background(40, 30, 6);
  const cv::Vec3b blue(20, 20, 250);
  const Scene s = compose_scene(items, {place(0, 0, 0, 20, blue), place(0, 40, 30, 20, blue),
                                        place(0, -50, 10, 20, blue)}, bg);
  EXPECT_EQ(cv::countNonZero(s.labels(cv::Rect(0, 0, 10, 10)) == 3), 100);
  EXPECT_EQ(cv::countNonZero(s.labels(cv::Rect(30, 20, 10, 10)) == 3), 100);
  EXPECT_EQ(cv::countNonZero(s.labels), 200);
}

TEST(FashionScenes, BadInputsAreRejected) {
  const ImageSet items = synthetic_items();
  const cv::Mat bg = make_background(32, 32, 1);
  EXPECT_THROW(compose_scene(items, {place(2, 10, 10, 20, {})}, bg), DataError);
  EXPECT_THROW(compose_scene(items, {place(0, 10, 10, 20, {})}, cv::Mat(32, 32, CV_8UC1)), DataError);
  SceneOptions bad;
  bad.min_items = 3;
  bad.max_items = 2;
  EXPECT_THROW(random_placements(items, bad, 1), std::invalid_argument);
  EXPECT_THROW(random_placements(ImageSet{}, SceneOptions{}, 1), std::invalid_argument);
}

TEST(FashionScenes, RandomPlacementsFollowTheOptions) {
  const ImageSet& items = real_items();
  SceneOptions opt;
  opt.width = 80;
  opt.height = 60;
  opt.min_items = 2;
  opt.max_items = 5;
  opt.min_size = 18;
  opt.max_size = 30;
  std::set<size_t> counts;
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const auto ps = random_placements(items, opt, seed);
    ASSERT_GE(ps.size(), 2u);
    ASSERT_LE(ps.size(), 5u);
    counts.insert(ps.size());
    for (const Placement& p : ps) {
      ASSERT_LT(p.item, items.size());
      ASSERT_GE(p.size, 18.f);
      ASSERT_LE(p.size, 30.f);
      ASSERT_GE(p.center.x, 0.f);
      ASSERT_LE(p.center.x, 80.f);
      ASSERT_GE(p.center.y, 0.f);
      ASSERT_LE(p.center.y, 60.f);
      ASSERT_GE(std::max({p.color[0], p.color[1], p.color[2]}), 200) << "colour too dark";
      ASSERT_LE(std::min({p.color[0], p.color[1], p.color[2]}), 0.4 * 255) << "colour not saturated";
    }
  }
  EXPECT_EQ(counts.size(), 4u);  // every count in [2, 5] occurs

  const auto a = random_placements(items, opt, 11), b = random_placements(items, opt, 11),
             c = random_placements(items, opt, 12);
  auto key = [](const std::vector<Placement>& ps) {
    std::vector<float> k;
    for (const Placement& p : ps) k.insert(k.end(), {float(p.item), p.center.x, p.center.y, p.size});
    return k;
  };
  EXPECT_EQ(key(a), key(b));
  EXPECT_NE(key(a), key(c));
}

TEST(FashionScenes, RealItemsAreLabelledWhereVisibleAndStandOut) {
  const ImageSet& items = real_items();
  SceneOptions opt;
  size_t labelled = 0, distinct = 0, diff_sum = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const cv::Mat bg = make_background(opt.width, opt.height, seed);
    const auto ps = random_placements(items, opt, seed + 1000);
    const Scene s = compose_scene(items, ps, bg);
    std::set<int> allowed{0};
    for (const Placement& p : ps) allowed.insert(items.labels[p.item] + 1);

    // Where the last item is bright it owns the label.
    const Placement& last = ps.back();
    const int side = static_cast<int>(std::lround(last.size));
    cv::Mat resized;
    cv::resize(items.image(last.item), resized, cv::Size(side, side), 0, 0, cv::INTER_LINEAR);
    const int x0 = static_cast<int>(std::lround(last.center.x - side / 2.0));
    const int y0 = static_cast<int>(std::lround(last.center.y - side / 2.0));

    for (int y = 0; y < opt.height; ++y)
      for (int x = 0; x < opt.width; ++x) {
        const int l = s.labels.at<uint8_t>(y, x);
        ASSERT_TRUE(allowed.count(l)) << "label " << l << " belongs to no placed item";
        if (l > 0) {
          ++labelled;
          const cv::Vec3b px = s.image.at<cv::Vec3b>(y, x), b = bg.at<cv::Vec3b>(y, x);
          const int diff = std::abs(px[0] - b[0]) + std::abs(px[1] - b[1]) + std::abs(px[2] - b[2]);
          if (diff > 30) ++distinct;
          diff_sum += diff;
        }
        const int ry = y - y0, rx = x - x0;
        if (ry >= 0 && ry < side && rx >= 0 && rx < side && resized.at<uint8_t>(ry, rx) > kSceneLabelThreshold) {
          ASSERT_EQ(l, items.labels[last.item] + 1) << "seed " << seed << " at " << x << "," << y;
        }
      }
  }
  ASSERT_GT(labelled, 1000u);
  // Dark Fashion-MNIST garments are faint by nature (gray value = alpha), so
  // not every labelled pixel stands out; the large majority must.
  EXPECT_GT(double(distinct) / labelled, 0.85) << "items blend into the background";
  EXPECT_GT(double(diff_sum) / labelled, 90) << "mean |item - background| (sum over RGB) is too small";
}

TEST(FashionScenes, MakeScenesGeometryLabelsAndDeterminism) {
  const ImageSet& items = real_items();
  SceneOptions opt;
  opt.width = 48;
  opt.height = 40;
  const SceneSet a = make_scenes(items, 25, opt, 99);
  ASSERT_EQ(a.images.size(), 25u);
  ASSERT_EQ(a.label_maps.size(), 25u);
  EXPECT_EQ(a.images.width, 48);
  EXPECT_EQ(a.images.height, 40);
  EXPECT_EQ(a.images.channels, 3);
  EXPECT_EQ(a.label_maps.width, 48);
  EXPECT_EQ(a.label_maps.height, 40);
  EXPECT_EQ(a.label_maps.channels, 1);
  EXPECT_EQ(a.images.pixels.size(), 25u * 48 * 40 * 3);
  EXPECT_EQ(a.label_maps.pixels.size(), 25u * 48 * 40);
  EXPECT_EQ(a.images.labels, a.label_maps.labels);

  size_t with_items = 0;
  for (size_t i = 0; i < a.label_maps.size(); ++i) {
    std::array<int, kSceneClasses> counts{};
    const cv::Mat map = a.label_maps.image(i);
    for (int y = 0; y < map.rows; ++y)
      for (int x = 0; x < map.cols; ++x) {
        const int l = map.at<uint8_t>(y, x);
        ASSERT_LT(l, kSceneClasses);
        counts[l]++;
      }
    const auto best = std::max_element(counts.begin() + 1, counts.end());
    ASSERT_LT(a.images.labels[i], 10);
    if (*best > 0) {
      ++with_items;
      EXPECT_EQ(counts[a.images.labels[i] + 1], *best) << "scene " << i << " label is not the dominant class";
    }
  }
  EXPECT_GE(with_items, 24u);

  const SceneSet b = make_scenes(items, 25, opt, 99);
  EXPECT_EQ(a.images.pixels, b.images.pixels);
  EXPECT_EQ(a.label_maps.pixels, b.label_maps.pixels);
  EXPECT_EQ(a.images.labels, b.images.labels);
  const SceneSet c = make_scenes(items, 25, opt, 100);
  EXPECT_NE(a.images.pixels, c.images.pixels);
  EXPECT_NE(a.label_maps.pixels, c.label_maps.pixels);
  // Scenes within a set differ from each other.
  EXPECT_FALSE(same(a.images.image(0), a.images.image(1)));
}

TEST(FashionScenes, EpochScenesAreNewEveryEpochAndTheSameForTheSameEpoch) {
  // `ecotta train --fresh-scenes`: epoch e trains on make_scenes(..., epoch_scene_seed(scene_seed, e)).
  const ImageSet& items = real_items();
  const SceneOptions opt;
  const auto scenes = [&](uint64_t scene_seed, int epoch) {
    return make_scenes(items, 6, opt, epoch_scene_seed(scene_seed, epoch));
  };
  const SceneSet e0 = scenes(0, 0), e1 = scenes(0, 1), e0_again = scenes(0, 0);
  EXPECT_EQ(e0.images.pixels, e0_again.images.pixels);
  EXPECT_EQ(e0.label_maps.pixels, e0_again.label_maps.pixels);
  EXPECT_EQ(e0.images.labels, e0_again.images.labels);
  // Another epoch: different backgrounds, placements and items in every scene.
  for (size_t i = 0; i < e0.images.size(); ++i) {
    EXPECT_FALSE(same(e0.images.image(i), e1.images.image(i))) << "scene " << i;
    EXPECT_FALSE(same(e0.label_maps.image(i), e1.label_maps.image(i))) << "scene " << i;
  }
  // The scene seed matters too, and no epoch reuses the fixed sets' seeds
  // (2 * scene_seed for train, 2 * scene_seed + 1 for test).
  EXPECT_NE(scenes(1, 0).images.pixels, e0.images.pixels);
  std::set<uint64_t> seeds;
  for (uint64_t scene_seed = 0; scene_seed < 4; ++scene_seed)
    for (int epoch = 0; epoch < 50; ++epoch) {
      const uint64_t s = epoch_scene_seed(scene_seed, epoch);
      EXPECT_NE(s, 2 * scene_seed);
      EXPECT_NE(s, 2 * scene_seed + 1);
      seeds.insert(s);
    }
  EXPECT_EQ(seeds.size(), 4u * 50);
  EXPECT_THROW(epoch_scene_seed(0, -1), std::invalid_argument);
}
