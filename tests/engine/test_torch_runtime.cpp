#include <gtest/gtest.h>

#include <cstdlib>

#include "runtime/torch_runtime.h"

using namespace ecotta::runtime;

TEST(TorchRuntime, ExplicitThreadCountIsApplied) {
  EXPECT_EQ(configure_threads(2), 2);
  EXPECT_EQ(at::get_num_threads(), 2);
  EXPECT_EQ(configure_threads(1), 1);
}

TEST(TorchRuntime, EnvironmentChoosesThreadsWhenNotRequested) {
  setenv("ECOTTA_THREADS", "3", 1);
  EXPECT_EQ(configure_threads(), 3);
  setenv("ECOTTA_THREADS", "many", 1);
  EXPECT_THROW(configure_threads(), std::invalid_argument);
  unsetenv("ECOTTA_THREADS");
  EXPECT_GE(configure_threads(), 1);
}

TEST(TorchRuntime, OptimizedBlasIsLoaded) {
  // Debian's libtorch links the netlib reference BLAS unless an optimized one
  // is installed; scripts/setup installs OpenBLAS (OpenMP flavour).
  const auto info = runtime_info();
  EXPECT_FALSE(info.torch_version.empty());
  EXPECT_FALSE(info.reference_blas) << "reference BLAS in use: " << info.blas_library;
}

TEST(TorchRuntime, ConvolutionMatchesAnExplicitSum) {
  // A tiny end-to-end check that LibTorch computes through the BLAS we link.
  torch::manual_seed(0);
  const auto x = torch::randn({1, 2, 5, 5});
  const auto w = torch::randn({3, 2, 3, 3});
  const auto y = torch::conv2d(x, w, {}, 1, 1);
  const auto xp = torch::constant_pad_nd(x, {1, 1, 1, 1});
  float expect = 0;
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) expect += xp[0][c][2 + i][1 + j].item<float>() * w[1][c][i][j].item<float>();
  EXPECT_NEAR(y[0][1][2][1].item<float>(), expect, 1e-4);
}
