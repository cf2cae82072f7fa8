#include <gtest/gtest.h>

#include "adapt/ecotta_loss.h"
#include "adapt/ecotta_method.h"
#include "model/bundle.h"
#include "model/model_zoo.h"
#include "small_bundle.h"

#include <opencv2/core.hpp>

#include "corrupt/corruption.h"
#include "data/fashion_mnist.h"
#include "train/tensor_data.h"

using namespace ecotta;

using test_support::all_equal;
using test_support::small_warm_bundle;
using test_support::snapshot;

TEST(EcoTtaMethod, FrozenNetworkIsBitIdenticalAfterAThousandSteps) {
  auto bundle = small_warm_bundle();
  const auto frozen_before = snapshot(*bundle.model);
  const auto meta_before = snapshot(*bundle.meta);
  adapt::EcoTtaMethod method(bundle, {});
  torch::manual_seed(12);
  for (int step = 0; step < 1000; ++step) method.forward_and_adapt(torch::randn({4, 3, 32, 32}) * 0.5);
  EXPECT_TRUE(all_equal(frozen_before, snapshot(*bundle.model)));
  EXPECT_FALSE(all_equal(meta_before, snapshot(*bundle.meta)));
  EXPECT_EQ(method.skipped_steps(), 0);
  for (const auto& p : bundle.model->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(EcoTtaMethod, AdaptingToFogLowersEntropyOnTheShippedBundle) {
  // The shipped warmed-up WRN-40-2 on real Fashion-MNIST test images under
  // fog at severity 5: a few EcoTTA steps on the batch make it more confident.
  auto bundle = model::load_bundle(std::string(ECOTTA_FIXTURE_DIR) + "/../wrn-40-2-ecotta.ecotta");
  auto data = train::to_tensors(data::to_model_input(data::load_fashion_mnist(data::default_data_dir(), data::Split::Test, 32)));
  for (int64_t i = 0; i < data.size(); ++i) {
    cv::Mat img(32, 32, CV_8UC3, data.images[i].data_ptr<uint8_t>());
    corrupt::apply("fog", 5, img, static_cast<uint64_t>(i)).copyTo(img);
  }
  const auto x = train::prepare_input(data.images, bundle.info.input, torch::kCPU);
  adapt::EcoTtaMethod method(bundle, {});
  const double first = adapt::softmax_entropy(method.forward_and_adapt(x)).mean().item<double>();
  double last = first;
  for (int i = 0; i < 10; ++i) last = adapt::softmax_entropy(method.forward_and_adapt(x)).mean().item<double>();
  EXPECT_LT(last, first * 0.95) << first << " -> " << last;
}

TEST(EcoTtaMethod, ResetReturnsToTheWarmedUpMetaNetworks) {
  auto bundle = small_warm_bundle();
  const auto meta_before = snapshot(*bundle.meta);
  adapt::EcoTtaMethod method(bundle, {});
  for (int i = 0; i < 5; ++i) method.forward_and_adapt(torch::randn({8, 3, 32, 32}));
  EXPECT_FALSE(all_equal(meta_before, snapshot(*bundle.meta)));
  method.reset();
  EXPECT_TRUE(all_equal(meta_before, snapshot(*bundle.meta)));
}

TEST(EcoTtaMethod, NonFiniteInputNeverReachesTheMetaNetworks) {
  auto bundle = small_warm_bundle();
  adapt::EcoTtaMethod method(bundle, {});
  const auto meta_before = snapshot(*bundle.meta);
  auto x = torch::randn({4, 3, 32, 32});
  x[0][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  method.forward_and_adapt(x);
  EXPECT_EQ(method.skipped_steps(), 1);
  EXPECT_TRUE(all_equal(meta_before, snapshot(*bundle.meta)));
}

TEST(EcoTtaMethod, NeedsWarmedUpMetaNetworks) {
  auto bundle = small_warm_bundle();
  bundle.meta = nullptr;
  EXPECT_THROW(adapt::EcoTtaMethod(bundle, {}), std::invalid_argument);
}
