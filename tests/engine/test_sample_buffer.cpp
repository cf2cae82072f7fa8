#include <gtest/gtest.h>

#include <torch/torch.h>

#include "adapt/sample_buffer.h"

using ecotta::adapt::SampleBuffer;

namespace {

torch::Tensor sample(float value) { return torch::full({3, 4, 4}, value); }

// Labels of a batch, read back from the sample values (value = label here).
std::vector<int64_t> labels_of(const torch::Tensor& batch) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < batch.size(0); ++i) out.push_back(static_cast<int64_t>(batch[i][0][0][0].item<float>()));
  return out;
}

}  // namespace

TEST(SampleBuffer, ACorrelatedStreamCannotCrowdOutOtherClasses) {
  // A video: 200 frames of class 0, then 10 of class 1, then 10 of class 2.
  SampleBuffer buffer(16, 10);
  for (int i = 0; i < 200; ++i) buffer.offer(sample(0), 0);
  EXPECT_EQ(buffer.size(), 16u);
  for (int i = 0; i < 10; ++i) buffer.offer(sample(1), 1);
  for (int i = 0; i < 10; ++i) buffer.offer(sample(2), 2);
  const auto counts = buffer.per_class();
  EXPECT_EQ(buffer.size(), 16u);
  // Balanced as far as arrivals allow: no class holds more than a third.
  for (size_t c = 0; c < 3; ++c) {
    EXPECT_GE(counts[c], 5u) << c;
    EXPECT_LE(counts[c], 6u) << c;
  }
  // A batch of 6 takes two of each class.
  auto labels = labels_of(buffer.batch(6));
  std::sort(labels.begin(), labels.end());
  EXPECT_EQ(labels, (std::vector<int64_t>{0, 0, 1, 1, 2, 2}));
}

TEST(SampleBuffer, OldSamplesAgeOut) {
  SampleBuffer buffer(4, 2);
  for (int i = 0; i < 4; ++i) buffer.offer(sample(0), 0);
  // A new scene of the same class replaces the old one, oldest first.
  for (int i = 0; i < 4; ++i) buffer.offer(sample(10 + i), 0);
  const auto batch = buffer.batch(4);
  for (int64_t i = 0; i < 4; ++i) EXPECT_GE(batch[i][0][0][0].item<float>(), 10.f);
  // Newest first within a class.
  EXPECT_EQ(buffer.batch(1)[0][0][0][0].item<float>(), 13.f);
}

TEST(SampleBuffer, KeepsItsOwnCopyAndRefusesBadInput) {
  SampleBuffer buffer(2, 3);
  auto frame = sample(1);
  buffer.offer(frame, 1);
  frame.fill_(7);  // the caller reuses its frame memory
  EXPECT_EQ(buffer.batch(1)[0][0][0][0].item<float>(), 1.f);
  EXPECT_THROW(buffer.offer(frame, 3), std::invalid_argument);
  EXPECT_THROW(buffer.offer(frame, -1), std::invalid_argument);
  EXPECT_THROW(SampleBuffer(0, 3), std::invalid_argument);
  buffer.clear();
  EXPECT_FALSE(buffer.batch(4).defined());
}
