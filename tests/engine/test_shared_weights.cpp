// Cameras of one model file share one read-only copy of its frozen
// weights: sharing must save the bytes, and no method's adaptation may
// reach another camera through them.
#include <gtest/gtest.h>

#include <map>

#include <torch/torch.h>

#include "../support/temp_dir.h"
#include "adapt/method.h"
#include "adapt/method_registry.h"
#include "adapt/methods.h"
#include "model/bundle.h"
#include "model/shared_weights.h"
#include "small_bundle.h"

using namespace ecotta;
using ecotta::testing::TempDir;

namespace {

// A bundle as the streaming engine loads it: robust statistics.
model::Bundle load_robust(const std::string& path) {
  auto b = model::load_bundle(path);
  b.info.normalization = model::NormMode::Robust;
  return b;
}

adapt::MethodOptions robust_options() {
  adapt::MethodOptions o;
  o.baseline_norm = model::NormMode::Robust;
  o.ecotta.lr = 0.05;  // large, so that adaptation moves what it may
  o.tent_lr = o.eata_lr = o.cotta_lr = 0.01;
  return o;
}

std::map<std::string, torch::Tensor> copies_of_tensors(model::PartitionedModel& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : m.named_parameters(true)) out[p.key()] = p.value().detach().clone();
  for (const auto& b : m.named_buffers(true)) out[b.key()] = b.value().detach().clone();
  return out;
}

std::string small_file(const TempDir& dir) {
  const auto path = dir.file("small.ecotta");
  model::save_bundle(path, test_support::small_warm_bundle());
  return path;
}

}  // namespace

TEST(SharedWeights, TwoCamerasOfOneFileReadOneCopyFreedWithTheLast) {
  const TempDir dir;
  const auto path = small_file(dir);
  const auto before = model::shared_weights_registry_stats();
  auto a = load_robust(path), b = load_robust(path);
  auto ma = adapt::make_method("ecotta", a, robust_options());
  auto mb = adapt::make_method("ecotta", b, robust_options());
  auto sa = model::share_frozen_weights(a, ma->adapted_state());
  auto sb = model::share_frozen_weights(b, mb->adapted_state());
  {
    EXPECT_TRUE(sa.first);
    EXPECT_FALSE(sb.first);
    EXPECT_GT(sb.shared_bytes, 0);
    EXPECT_EQ(sb.shared_bytes, sa.shared_bytes);
    // Every frozen convolution weight is now the same storage in both.
    const auto pa = a.model->named_parameters(true), pb = b.model->named_parameters(true);
    int64_t same_storage = 0;
    for (const auto& p : pa)
      if (p.value().storage().data() == pb[p.key()].storage().data()) ++same_storage;
    EXPECT_EQ(same_storage, static_cast<int64_t>(pa.size()));  // EcoTTA trains none of them
    // What adaptation changes stays each camera's own.
    const auto ba = a.model->named_buffers(true), bb = b.model->named_buffers(true);
    for (const auto& x : ba) EXPECT_NE(x.value().storage().data(), bb[x.key()].storage().data()) << x.key();
    const auto now = model::shared_weights_registry_stats();
    EXPECT_EQ(now.networks, before.networks + 1);
    EXPECT_EQ(now.bytes - before.bytes, sa.shared_bytes);
  }
  // One camera gone, the other still holds it; with both gone, so is the
  // registry's entry.
  sa = {};
  EXPECT_EQ(model::shared_weights_registry_stats().networks, before.networks + 1);
  sb = {};
  EXPECT_EQ(model::shared_weights_registry_stats().networks, before.networks);
}

TEST(SharedWeights, AdaptingOneCameraChangesNoOtherCameraAndNoSharedTensorWhateverTheMethod) {
  const TempDir dir;
  const auto path = small_file(dir);
  torch::manual_seed(11);
  const auto probe = torch::rand({4, 3, 32, 32});
  const auto shifted = torch::rand({8, 3, 32, 32}) * 0.3 + 0.6;  // a washed-out scene
  for (const auto& name : adapt::method_names()) {
    SCOPED_TRACE(name);
    auto a = load_robust(path), b = load_robust(path), fresh = load_robust(path);
    auto ma = adapt::make_method(name, a, robust_options());
    auto mb = adapt::make_method(name, b, robust_options());
    const auto sa = model::share_frozen_weights(a, ma->adapted_state());
    const auto sb = model::share_frozen_weights(b, mb->adapted_state());
    const auto b_before = mb->predict(probe);
    const auto a_before = ma->predict(probe);
    const auto b_tensors = copies_of_tensors(*b.model);
    for (int i = 0; i < 20; ++i) ma->forward_and_adapt(shifted);
    // The other camera predicts bit for bit as before, and none of its
    // tensors moved (shared or its own).
    EXPECT_TRUE(torch::equal(mb->predict(probe), b_before));
    for (const auto& [key, t] : copies_of_tensors(*b.model)) EXPECT_TRUE(torch::equal(t, b_tensors.at(key))) << key;
    // The shared tensors are the file's, bit for bit.
    const auto file_tensors = copies_of_tensors(*fresh.model);
    const auto b_parameters = b.model->named_parameters(true);
    for (const auto& p : a.model->named_parameters(true)) {
      if (p.value().storage().data() == b_parameters[p.key()].storage().data()) {
        EXPECT_TRUE(torch::equal(p.value(), file_tensors.at(p.key()))) << p.key();
      }
    }
    // And the adapting camera did adapt (the test could fail otherwise).
    if (adapt::method_entry(name).adapts) {
      EXPECT_FALSE(torch::equal(ma->predict(probe), a_before));
    }
  }
}
