#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "../support/temp_dir.h"
#include "model/bundle.h"
#include "model/meta_network.h"
#include "model/torchscript_model.h"

using namespace ecotta::model;

// Fixtures written by models/fixtures/make_torchscript_fixtures.py (PyTorch 1.13).
#ifndef ECOTTA_FIXTURE_DIR
#error "ECOTTA_FIXTURE_DIR must point at models/fixtures"
#endif

namespace {

std::string fixture(const std::string& name) { return std::string(ECOTTA_FIXTURE_DIR) + "/" + name; }

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

torch::Tensor fixed_input() {
  return torch::arange(2 * 3 * 32 * 32, torch::kFloat32).reshape({2, 3, 32, 32}) / 6144.0 - 0.5;
}

}  // namespace

TEST(TorchScriptImport, PartitionedForwardMatchesPyTorch) {
  TorchScriptModel model(load_torchscript(fixture("tiny_resnet_scripted.pt")),
                         parse_partition_spec(slurp(fixture("tiny_resnet_partition.json"))));
  EXPECT_EQ(model.num_parts(), 4u);
  model.apply_norm_mode(NormMode::Source);
  torch::NoGradGuard no_grad;
  const auto y = model.forward(fixed_input()).flatten();
  std::istringstream expected(slurp(fixture("tiny_resnet_expected.txt")));
  std::vector<float> ref;
  for (float v; expected >> v;) ref.push_back(v);
  ASSERT_EQ(static_cast<int64_t>(ref.size()), y.numel());
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(y[i].item<float>(), ref[i], 1e-4) << i;
}

TEST(TorchScriptImport, MetaNetworksAttachWithTheSameCode) {
  TorchScriptModel model(load_torchscript(fixture("tiny_resnet_scripted.pt")),
                         parse_partition_spec(slurp(fixture("tiny_resnet_partition.json"))));
  const auto shapes = probe_part_shapes(model, 32, 32);
  ASSERT_EQ(shapes.size(), 4u);
  EXPECT_EQ(shapes[1].stride(), 2);
  MetaNetworks meta(shapes);
  freeze(model);
  for (const auto& p : model.parameters()) EXPECT_FALSE(p.requires_grad());
  model.apply_norm_mode(NormMode::Batch);
  set_norm_mode(*meta, NormMode::Batch);
  const auto out = forward_with_meta(model, *meta, torch::randn({4, 3, 32, 32}));
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{4, 10}));
  // Gradients reach the meta networks through the imported frozen parts.
  out.logsumexp(1).mean().backward();
  for (const auto& p : meta->parameters()) {
    ASSERT_TRUE(p.grad().defined());
  }
  EXPECT_GT(meta->block(0).parameters()[0].grad().abs().sum().item<double>(), 0);
  EXPECT_THROW(model.apply_norm_mode(NormMode::Robust), std::invalid_argument);
}

TEST(TorchScriptImport, TracedModulesAreRefused) {
  try {
    load_torchscript(fixture("tiny_resnet_traced.pt"));
    FAIL() << "a traced module was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("torch.jit.script"), std::string::npos) << e.what();
  }
}

TEST(TorchScriptImport, UnknownChildModuleIsNamed) {
  auto spec = parse_partition_spec(slurp(fixture("tiny_resnet_partition.json")));
  spec.parts[2] = {"layer9"};
  try {
    TorchScriptModel model(load_torchscript(fixture("tiny_resnet_scripted.pt")), spec);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layer9"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_partition_spec("{\"stem\": []}"), std::invalid_argument);
  EXPECT_THROW(parse_partition_spec("not json"), std::invalid_argument);
}

TEST(TorchScriptImport, BundleRoundTripKeepsTheModuleAndMetaNetworks) {
  ecotta::testing::TempDir dir;
  Bundle b;
  b.info.task = Task::Classify;
  b.torchscript_bytes = slurp(fixture("tiny_resnet_scripted.pt"));
  b.info.arch_json = std::string(R"({"name":"torchscript","spec":)") + slurp(fixture("tiny_resnet_partition.json")) + "}";
  for (int i = 0; i < 10; ++i) b.info.labels.push_back(std::to_string(i));
  b.info.normalization = NormMode::Batch;
  b.model = build_model(b.info.arch_json, b.torchscript_bytes);
  attach_meta_networks(b);
  save_bundle(dir.file("ts.ecotta"), b);
  auto back = load_bundle(dir.file("ts.ecotta"));
  ASSERT_TRUE(back.meta);
  // Imported modules keep the layout they were written for (they may view() activations).
  for (auto* m : {static_cast<torch::nn::Module*>(back.model.get()), static_cast<torch::nn::Module*>(back.meta.ptr().get())})
    for (const auto& p : m->parameters()) EXPECT_TRUE(p.is_contiguous()) << "an imported bundle went channels-last";
  back.model->apply_norm_mode(NormMode::Source);
  b.model->apply_norm_mode(NormMode::Source);
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::equal(back.model->forward(fixed_input()), b.model->forward(fixed_input())));
}
