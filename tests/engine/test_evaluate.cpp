// Evaluation figures from confusion matrices: mIoU and each class's IoU,
// checked against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "train/evaluate.h"

using namespace ecotta;

namespace {

// Rows: truth. Class 0: 5 right, 1 taken for class 1; class 1: 3 right, 2
// taken for class 0; class 2 never occurs and is never predicted.
torch::Tensor hand_confusion() {
  return torch::tensor({5, 1, 0, 2, 3, 0, 0, 0, 0}, torch::kInt64).view({3, 3});
}

}  // namespace

TEST(Evaluate, ClassIousAreIntersectionOverUnionPerClass) {
  const auto iou = train::class_ious_from_confusion(hand_confusion());
  ASSERT_EQ(iou.size(), 3u);
  EXPECT_DOUBLE_EQ(iou[0], 5.0 / 8.0);  // union: 5 right + 1 missed + 2 false
  EXPECT_DOUBLE_EQ(iou[1], 3.0 / 6.0);  // union: 3 right + 2 missed + 1 false
  EXPECT_TRUE(std::isnan(iou[2]));      // absent from labels and predictions
}

TEST(Evaluate, MeanIouSkipsAbsentClasses) {
  EXPECT_DOUBLE_EQ(train::mean_iou_from_confusion(hand_confusion()), (5.0 / 8.0 + 3.0 / 6.0) / 2);
  // A class predicted but never true counts, with IoU 0.
  auto c = hand_confusion();
  c[0][2] = 4;
  const auto iou = train::class_ious_from_confusion(c);
  EXPECT_DOUBLE_EQ(iou[2], 0.0);
  EXPECT_DOUBLE_EQ(iou[0], 5.0 / 12.0);
  EXPECT_DOUBLE_EQ(train::mean_iou_from_confusion(c), (5.0 / 12.0 + 3.0 / 6.0 + 0.0) / 3);
}

TEST(Evaluate, SegmentationConfusionCountsPixels) {
  // A "segmenter" that predicts class 1 everywhere on 2 scenes of 2x2 pixels.
  train::TensorDataset data;
  data.images = torch::zeros({2, 2, 2, 3}, torch::kUInt8);
  data.targets = torch::tensor({0, 1, 1, 1, 2, 2, 1, 0}, torch::kInt64).view({2, 2, 2});
  model::InputSpec spec;
  spec.height = 2;
  spec.width = 2;
  const auto forward = [](const torch::Tensor& x) {
    auto logits = torch::zeros({x.size(0), 3, x.size(2), x.size(3)});
    logits.select(1, 1).fill_(1);
    return logits;
  };
  const auto c = train::segmentation_confusion(forward, data, spec, 3, torch::kCPU, 1);
  EXPECT_TRUE(torch::equal(c, torch::tensor({0, 2, 0, 0, 4, 0, 0, 2, 0}, torch::kInt64).view({3, 3})));
}
