#include <gtest/gtest.h>

#include <map>

#include <opencv2/core.hpp>

#include "../support/temp_dir.h"
#include "data/data_error.h"
#include "data/fashion_mnist.h"
#include "data/idx_file.h"

using namespace ecotta::data;

// These read the real Fashion-MNIST files shipped by Debian's
// dataset-fashion-mnist package (scripts/setup installs it).

TEST(FashionMnist, TestSplitHasTenThousandBalancedImages) {
  const ImageSet set = load_fashion_mnist(default_data_dir(), Split::Test);
  ASSERT_EQ(set.size(), 10000u);
  EXPECT_EQ(set.height, 28);
  EXPECT_EQ(set.width, 28);
  EXPECT_EQ(set.channels, 1);
  std::map<int, int> per_class;
  for (uint8_t l : set.labels) per_class[l]++;
  ASSERT_EQ(per_class.size(), 10u);
  for (auto [label, count] : per_class) EXPECT_EQ(count, 1000) << "class " << label;
}

TEST(FashionMnist, LimitTakesTheFirstSamples) {
  const ImageSet all = load_fashion_mnist(default_data_dir(), Split::Test);
  const ImageSet few = load_fashion_mnist(default_data_dir(), Split::Test, 7);
  ASSERT_EQ(few.size(), 7u);
  EXPECT_TRUE(std::equal(few.pixels.begin(), few.pixels.end(), all.pixels.begin()));
  EXPECT_TRUE(std::equal(few.labels.begin(), few.labels.end(), all.labels.begin()));
}

TEST(FashionMnist, ModelInputIsPaddedRgb32) {
  const ImageSet gray = load_fashion_mnist(default_data_dir(), Split::Test, 20);
  const ImageSet rgb = to_model_input(gray);
  ASSERT_EQ(rgb.size(), 20u);
  EXPECT_EQ(rgb.height, 32);
  EXPECT_EQ(rgb.width, 32);
  EXPECT_EQ(rgb.channels, 3);
  EXPECT_EQ(rgb.labels, gray.labels);
  for (size_t i = 0; i < rgb.size(); ++i) {
    const cv::Mat in = gray.image(i), out = rgb.image(i);
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x) {
        const auto px = out.at<cv::Vec3b>(y, x);
        const bool border = y < 2 || y >= 30 || x < 2 || x >= 30;
        const uint8_t expect = border ? 0 : in.at<uint8_t>(y - 2, x - 2);
        ASSERT_EQ(px[0], expect);
        ASSERT_EQ(px[1], expect);
        ASSERT_EQ(px[2], expect);
      }
  }
}

TEST(FashionMnist, MismatchedImageAndLabelCountsAreRejected) {
  ecotta::testing::TempDir dir;
  IdxArray images;
  images.dims = {3, 28, 28};
  images.data.assign(3 * 28 * 28, 10);
  IdxArray labels;
  labels.dims = {2};
  labels.data = {1, 2};
  write_idx(dir.file("t10k-images-idx3-ubyte.gz"), images);
  write_idx(dir.file("t10k-labels-idx1-ubyte.gz"), labels);
  try {
    load_fashion_mnist(dir.path().string(), Split::Test);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("3 images"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("2 labels"), std::string::npos) << e.what();
  }
}

TEST(FashionMnist, MissingFolderGivesAClearError) {
  EXPECT_THROW(load_fashion_mnist("/nonexistent-folder", Split::Train), DataError);
  EXPECT_THROW(parse_split("validation"), DataError);
}
