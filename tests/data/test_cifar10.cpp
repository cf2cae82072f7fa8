#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "../support/temp_dir.h"
#include "data/cifar10.h"
#include "data/data_error.h"

using namespace ecotta::data;

namespace {

// The planes of record `r`: distinct, position-dependent values per channel,
// so any mix-up of planes, rows or records shows.
uint8_t planar_value(int record, int channel, int pos) {
  return static_cast<uint8_t>((pos * (channel + 1) + 7 * record + 85 * channel) & 0xff);
}

std::vector<uint8_t> make_records(const std::vector<uint8_t>& labels) {
  std::vector<uint8_t> bytes;
  for (size_t r = 0; r < labels.size(); ++r) {
    bytes.push_back(labels[r]);
    for (int c = 0; c < 3; ++c)
      for (int p = 0; p < 1024; ++p) bytes.push_back(planar_value(static_cast<int>(r), c, p));
  }
  return bytes;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string message_of(const std::string& path) {
  try {
    load_cifar10_batch(path);
  } catch (const DataError& e) {
    return e.what();
  }
  return "(no DataError)";
}

}  // namespace

TEST(Cifar10, BatchIsConvertedFromPlanarToInterleavedRgb) {
  ecotta::testing::TempDir dir;
  const std::string path = dir.file("data_batch_1.bin");
  write_bytes(path, make_records({3, 0, 9}));
  const ImageSet set = load_cifar10_batch(path);
  ASSERT_EQ(set.size(), 3u);
  EXPECT_EQ(set.height, 32);
  EXPECT_EQ(set.width, 32);
  EXPECT_EQ(set.channels, 3);
  EXPECT_EQ(set.labels, (std::vector<uint8_t>{3, 0, 9}));
  ASSERT_EQ(set.pixels.size(), 3u * 32 * 32 * 3);
  for (int r = 0; r < 3; ++r) {
    const cv::Mat img = set.image(r);
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        for (int c = 0; c < 3; ++c)
          ASSERT_EQ(img.at<cv::Vec3b>(y, x)[c], planar_value(r, c, y * 32 + x))
              << "record " << r << " at (" << x << ", " << y << ") channel " << c;
  }
}

TEST(Cifar10, TruncatedFileIsRejectedWithNameAndSizes) {
  ecotta::testing::TempDir dir;
  const std::string path = dir.file("short_batch.bin");
  std::vector<uint8_t> bytes = make_records({1, 2});
  bytes.resize(bytes.size() - 5);  // 6141 bytes
  write_bytes(path, bytes);
  const std::string what = message_of(path);
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("6141"), std::string::npos) << what;
  EXPECT_NE(what.find("3073"), std::string::npos) << what;
}

TEST(Cifar10, EmptyFileIsRejected) {
  ecotta::testing::TempDir dir;
  const std::string path = dir.file("empty.bin");
  write_bytes(path, {});
  EXPECT_NE(message_of(path).find(path), std::string::npos);
}

TEST(Cifar10, LabelOutsideTenClassesIsRejected) {
  ecotta::testing::TempDir dir;
  const std::string path = dir.file("bad_label.bin");
  write_bytes(path, make_records({4, 10, 2}));
  const std::string what = message_of(path);
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("label 10"), std::string::npos) << what;
  EXPECT_NE(what.find("record 1"), std::string::npos) << what;
}

TEST(Cifar10, MissingFileNamesThePath) {
  ecotta::testing::TempDir dir;
  const std::string path = dir.file("no_such_batch.bin");
  EXPECT_NE(message_of(path).find(path), std::string::npos);
}

TEST(Cifar10, SplitsReadTheirBatchFilesInOrder) {
  ecotta::testing::TempDir dir;
  for (int i = 1; i <= 5; ++i)
    write_bytes(dir.file("data_batch_" + std::to_string(i) + ".bin"), make_records({uint8_t(i), uint8_t(i - 1)}));
  write_bytes(dir.file("test_batch.bin"), make_records({7}));

  const ImageSet train = load_cifar10(dir.path().string(), Split::Train);
  EXPECT_EQ(train.labels, (std::vector<uint8_t>{1, 0, 2, 1, 3, 2, 4, 3, 5, 4}));
  ASSERT_EQ(train.pixels.size(), 10u * 3072);
  // Record 1 of data_batch_2 is image 3 of the split.
  EXPECT_EQ(train.image(3).at<cv::Vec3b>(0, 1)[2], planar_value(1, 2, 1));

  const ImageSet test = load_cifar10(dir.path().string(), Split::Test);
  EXPECT_EQ(test.labels, (std::vector<uint8_t>{7}));
}

TEST(Cifar10, MissingTrainBatchIsNamed) {
  ecotta::testing::TempDir dir;
  for (int i : {1, 2, 4, 5}) write_bytes(dir.file("data_batch_" + std::to_string(i) + ".bin"), make_records({0}));
  try {
    load_cifar10(dir.path().string(), Split::Train);
    FAIL() << "expected DataError";
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find("data_batch_3.bin"), std::string::npos) << e.what();
  }
}

TEST(Cifar10, ClassNames) {
  EXPECT_EQ(cifar10_classes()[0], "airplane");
  EXPECT_EQ(cifar10_classes()[9], "truck");
}
