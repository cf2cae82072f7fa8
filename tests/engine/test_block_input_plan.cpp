#include <gtest/gtest.h>

#include <stdexcept>

#include "adapt/block_input_plan.h"
#include "model/bundle.h"
#include "model/meta_network.h"
#include "model/model_zoo.h"

using namespace ecotta;

TEST(BlockInputPlan, DeepPartsWithSmallActivationsKeepMore) {
  // WRN-40-2 on 32x32, split 3,3,6,6: the parts' outputs per sample.
  auto net = model::build_model(model::arch_for("wrn-40-2", 10));
  std::vector<int64_t> floats;
  for (const auto& s : model::probe_part_shapes(*net, 32, 32)) floats.push_back(s.out_floats());
  EXPECT_EQ(floats, (std::vector<int64_t>{32 * 32 * 32, 32 * 32 * 32, 64 * 16 * 16, 128 * 8 * 8}));
  EXPECT_EQ(adapt::default_keep_every(floats), (std::vector<int64_t>{0, 0, 2, 1}));
  // Equal activations everywhere: nothing kept beyond the parts' inputs.
  EXPECT_EQ(adapt::default_keep_every({100, 100, 100}), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(adapt::default_keep_every({}), std::vector<int64_t>{});
}

TEST(BlockInputPlan, AGivenPlanIsCheckedAgainstTheNetwork) {
  const std::vector<int64_t> floats{400, 200, 100};
  EXPECT_EQ(adapt::resolve_keep_every({}, floats), (std::vector<int64_t>{0, 2, 1}));
  EXPECT_EQ(adapt::resolve_keep_every({1, 1, 3}, floats), (std::vector<int64_t>{1, 1, 3}));
  try {
    adapt::resolve_keep_every({1, 1}, floats);
    FAIL() << "a plan for 2 parts was accepted for 3";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("lists 2 parts, the network has 3"), std::string::npos) << e.what();
  }
  EXPECT_THROW(adapt::resolve_keep_every({1, -1, 1}, floats), std::invalid_argument);
}
