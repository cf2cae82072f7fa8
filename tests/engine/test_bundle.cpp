#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../support/temp_dir.h"
#include "model/bundle.h"
#include "model/memory_format.h"
#include "model/model_zoo.h"
#include "small_bundle.h"

using namespace ecotta::model;
using ecotta::test_support::all_equal;
using ecotta::test_support::snapshot;

namespace {

Bundle small_bundle(bool with_meta) {
  torch::manual_seed(3);
  Bundle b;
  b.info.task = Task::Classify;
  b.info.arch_json = arch_for("wrn-16-2", 10);
  for (int i = 0; i < 10; ++i) b.info.labels.push_back("class" + std::to_string(i));
  b.info.input.mean = {0.1f, 0.2f, 0.3f};
  b.info.input.std = {0.5f, 0.6f, 0.7f};
  b.info.normalization = NormMode::Robust;
  b.info.provenance_json = R"({"command":"test"})";
  b.model = build_model(b.info.arch_json);
  torch::NoGradGuard no_grad;
  for (auto& t : b.model->buffers()) t.uniform_(0.5, 1.5);
  if (with_meta) {
    attach_meta_networks(b);
    for (auto& t : b.meta->parameters()) t.normal_();
  }
  return b;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

template <typename F>
void expect_bundle_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "expected BundleError";
  } catch (const BundleError& e) {
    for (const auto& frag : fragments) EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Bundle, RoundTripIsExact) {
  ecotta::testing::TempDir dir;
  auto b = small_bundle(true);
  save_bundle(dir.file("m.ecotta"), b);
  auto back = load_bundle(dir.file("m.ecotta"));
  EXPECT_EQ(back.info.labels, b.info.labels);
  EXPECT_EQ(back.info.input.mean, b.info.input.mean);
  EXPECT_EQ(back.info.input.std, b.info.input.std);
  EXPECT_EQ(back.info.normalization, NormMode::Robust);
  EXPECT_EQ(back.info.task, Task::Classify);
  ASSERT_TRUE(back.meta);
  using Pair = std::pair<torch::nn::Module*, torch::nn::Module*>;
  for (const Pair& pair : {Pair(b.model.get(), back.model.get()), Pair(b.meta.ptr().get(), back.meta.ptr().get())}) {
    auto theirs = pair.second->named_parameters(true);
    for (const auto& p : pair.first->named_parameters(true)) EXPECT_TRUE(torch::equal(p.value(), theirs[p.key()])) << p.key();
    auto theirs_b = pair.second->named_buffers(true);
    for (const auto& t : pair.first->named_buffers(true)) EXPECT_TRUE(torch::equal(t.value(), theirs_b[t.key()])) << t.key();
  }
  b.model->apply_norm_mode(NormMode::Source);
  back.model->apply_norm_mode(NormMode::Source);
  use_channels_last(*b.model);  // as loading leaves it: the same kernels, so the same bits
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::equal(b.model->forward(x), back.model->forward(x)));
}

TEST(Bundle, LoadedNetworksRunChannelsLastAndFilesDoNotDependOnIt) {
  ecotta::testing::TempDir dir;
  auto b = small_bundle(true);
  use_channels_last(*b.meta);
  save_bundle(dir.file("a.ecotta"), b);
  auto back = load_bundle(dir.file("a.ecotta"));
  int64_t convs = 0;
  for (auto* m : {static_cast<torch::nn::Module*>(back.model.get()), static_cast<torch::nn::Module*>(back.meta.ptr().get())})
    for (const auto& p : m->parameters())
      if (p.dim() == 4) {
        EXPECT_TRUE(p.is_contiguous(at::MemoryFormat::ChannelsLast));
        ++convs;
      }
  EXPECT_GT(convs, 10);
  // The same network in either layout computes the same function.
  b.model->apply_norm_mode(NormMode::Source);
  back.model->apply_norm_mode(NormMode::Source);
  {
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({4, 3, 32, 32});
    const auto nchw = b.model->forward(x), cl = back.model->forward(x);
    EXPECT_TRUE(torch::allclose(nchw, cl, 1e-4, 1e-5)) << (nchw - cl).abs().max().item<double>();
  }
  // Saved from channels-last tensors, the file is byte for byte the one saved from contiguous ones.
  save_bundle(dir.file("b.ecotta"), back);
  EXPECT_EQ(read_file(dir.file("a.ecotta")), read_file(dir.file("b.ecotta")));
}

TEST(Bundle, LoadedNetworkIsFrozenAndMetaNetworksAreTrainable) {
  ecotta::testing::TempDir dir;
  save_bundle(dir.file("m.ecotta"), small_bundle(true));
  auto back = load_bundle(dir.file("m.ecotta"));
  for (const auto& p : back.model->parameters()) EXPECT_FALSE(p.requires_grad());
  for (const auto& p : back.meta->parameters()) EXPECT_TRUE(p.requires_grad());
}

TEST(Bundle, WithoutMetaNetworksLoadsWithoutThem) {
  ecotta::testing::TempDir dir;
  save_bundle(dir.file("m.ecotta"), small_bundle(false));
  EXPECT_FALSE(load_bundle(dir.file("m.ecotta")).meta);
}

TEST(Bundle, MissingFileIsAClearError) {
  expect_bundle_error([] { load_bundle("/nonexistent/model.ecotta"); }, {"/nonexistent/model.ecotta", "cannot open"});
}

TEST(Bundle, ForeignFileIsRefused) {
  ecotta::testing::TempDir dir;
  write_file(dir.file("notes.txt"), "just some text, not a model\n");
  expect_bundle_error([&] { load_bundle(dir.file("notes.txt")); }, {"notes.txt", "not an ecotta model bundle"});
}

TEST(Bundle, TruncatedFileIsRefused) {
  ecotta::testing::TempDir dir;
  save_bundle(dir.file("m.ecotta"), small_bundle(true));
  const auto bytes = read_file(dir.file("m.ecotta"));
  for (double keep : {0.5, 0.9, 0.999}) {
    write_file(dir.file("cut.ecotta"), bytes.substr(0, static_cast<size_t>(bytes.size() * keep)));
    expect_bundle_error([&] { load_bundle(dir.file("cut.ecotta")); }, {"cut.ecotta"});
  }
}

TEST(Bundle, ZipArchiveThatIsNotABundleIsRefused) {
  ecotta::testing::TempDir dir;
  torch::serialize::OutputArchive ar;
  ar.write("weights", torch::ones({3}), true);
  ar.save_to(dir.file("other.pt"));
  expect_bundle_error([&] { load_bundle(dir.file("other.pt")); }, {"other.pt", "not an ecotta model bundle"});
}

TEST(Bundle, ShapeMismatchNamesTheTensor) {
  ecotta::testing::TempDir dir;
  auto b = small_bundle(false);
  // Describe a narrower network than the weights saved.
  b.info.arch_json = R"({"name":"wide_resnet","depth":16,"widen":1,"classes":10,"split":[1,1,2,2]})";
  save_bundle(dir.file("m.ecotta"), b);
  expect_bundle_error([&] { load_bundle(dir.file("m.ecotta")); }, {"m.ecotta", "shape", "expects"});
}

TEST(Bundle, SavingReplacesTheFileAtomically) {
  ecotta::testing::TempDir dir;
  const auto path = dir.file("m.ecotta");
  save_bundle(path, small_bundle(false));
  save_bundle(path, small_bundle(true));
  EXPECT_TRUE(load_bundle(path).meta);
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    EXPECT_EQ(entry.path().filename(), "m.ecotta") << "left behind: " << entry.path();
}

TEST(Bundle, RobustStatisticsStartAtTheSourceStatistics) {
  // Training never touches the robust buffers; entering Robust must anchor
  // them at the source statistics, or every layer normalizes wrongly.
  ecotta::testing::TempDir dir;
  auto b = small_bundle(false);
  {
    torch::NoGradGuard no_grad;
    for (const auto& t : b.model->named_buffers(true))
      if (t.key().find("robust_") != std::string::npos) t.value().fill_(t.key().find("var") != std::string::npos ? 1 : 0);
  }
  save_bundle(dir.file("m.ecotta"), b);
  auto back = load_bundle(dir.file("m.ecotta"));
  back.model->apply_norm_mode(NormMode::Robust);
  for (const auto& t : back.model->named_buffers(true)) {
    const auto& key = t.key();
    if (key.find("robust_mean") == std::string::npos) continue;
    const auto source = back.model->named_buffers(true)[key.substr(0, key.size() - 11) + "running_mean"];
    EXPECT_TRUE(torch::equal(t.value(), source)) << key;
  }
  // One batch moves the EMA; switching to Robust again keeps what it learned.
  {
    torch::NoGradGuard no_grad;
    back.model->forward(torch::randn({8, 3, 32, 32}) * 3 + 1);
  }
  const auto adapted = snapshot(*back.model);
  EXPECT_FALSE(all_equal(adapted, snapshot(*load_bundle(dir.file("m.ecotta")).model)));
  back.model->apply_norm_mode(NormMode::Robust);
  EXPECT_TRUE(all_equal(adapted, snapshot(*back.model)));
}

TEST(Bundle, RobustAnchorComesBackAndStartsRobustModeWithTheMetaNetworks) {
  // A robust warm-up leaves statistics measured through the meta networks:
  // with them, robust mode starts there; without them, at the source
  // statistics of the original network.
  ecotta::testing::TempDir dir;
  auto b = small_bundle(true);
  for (const auto& t : copy_robust_statistics(*b.model)) b.robust_anchor.push_back(torch::rand_like(t) + 2);
  save_bundle(dir.file("m.ecotta"), b);
  auto back = load_bundle(dir.file("m.ecotta"));
  ASSERT_EQ(back.robust_anchor.size(), b.robust_anchor.size());
  for (size_t i = 0; i < b.robust_anchor.size(); ++i) EXPECT_TRUE(torch::equal(back.robust_anchor[i], b.robust_anchor[i]));

  apply_meta_norm_mode(back, NormMode::Robust);
  auto now = copy_robust_statistics(*back.model);
  for (size_t i = 0; i < now.size(); ++i) EXPECT_TRUE(torch::equal(now[i], b.robust_anchor[i])) << i;
  EXPECT_EQ(current_norm_mode(*back.meta), NormMode::Robust);
  // Already robust: the EMA it has moved to stays (no jump back mid-stream).
  {
    torch::NoGradGuard no_grad;
    forward_with_meta(*back.model, *back.meta, torch::randn({4, 3, 32, 32}));
  }
  const auto moved = copy_robust_statistics(*back.model);
  apply_meta_norm_mode(back, NormMode::Robust);
  now = copy_robust_statistics(*back.model);
  for (size_t i = 0; i < now.size(); ++i) EXPECT_TRUE(torch::equal(now[i], moved[i])) << i;

  // The original network alone starts at its source statistics.
  auto plain = load_bundle(dir.file("m.ecotta"));
  plain.model->apply_norm_mode(NormMode::Robust);
  const auto stats = copy_robust_statistics(*plain.model);
  size_t i = 0;
  for (const auto& t : plain.model->named_buffers(true))
    if (t.key().find("running_") != std::string::npos) {
      EXPECT_TRUE(torch::equal(stats[i], t.value())) << t.key();
      ++i;
    }
  EXPECT_EQ(i, stats.size());
}

TEST(Bundle, RobustAnchorThatDoesNotFitIsRefused) {
  ecotta::testing::TempDir dir;
  auto b = small_bundle(true);
  b.robust_anchor = copy_robust_statistics(*b.model);
  b.robust_anchor.pop_back();
  b.robust_anchor.pop_back();
  save_bundle(dir.file("m.ecotta"), b);
  expect_bundle_error([&] { load_bundle(dir.file("m.ecotta")); }, {"m.ecotta", "robust anchor", "BN layers"});
  b.robust_anchor = copy_robust_statistics(*b.model);
  b.robust_anchor[3] = torch::zeros({5});
  save_bundle(dir.file("n.ecotta"), b);
  expect_bundle_error([&] { load_bundle(dir.file("n.ecotta")); }, {"n.ecotta", "robust anchor", "channels"});
}

TEST(Bundle, InputGeometryRoundTripsAndDefaultsToTheTasks) {
  ecotta::testing::TempDir dir;
  auto bundle = ecotta::test_support::small_warm_bundle();
  bundle.info.input.geometry = ecotta::model::Geometry::Letterbox;
  ecotta::model::save_bundle(dir.file("letterbox.ecotta"), bundle);
  EXPECT_EQ(ecotta::model::load_bundle(dir.file("letterbox.ecotta")).info.input.geometry, ecotta::model::Geometry::Letterbox);
  // Bundles written before the field existed (the shipped ones) get their task's.
  EXPECT_EQ(ecotta::model::load_bundle(std::string(ECOTTA_FIXTURE_DIR) + "/../wrn-40-2.ecotta").info.input.geometry,
            ecotta::model::Geometry::Crop);
  EXPECT_EQ(ecotta::model::load_bundle(std::string(ECOTTA_FIXTURE_DIR) + "/../segmenter.ecotta").info.input.geometry,
            ecotta::model::Geometry::Squash);
}

TEST(Bundle, RepartitionKeepsTheNetworkAndDropsWhatBelongedToTheOldParts) {
  // WRN-16-2 has 6 blocks (split 1,1,2,2): as 2 parts of 3 the network must
  // compute bit for bit the same, with fresh meta networks to warm up.
  ecotta::testing::TempDir dir;
  save_bundle(dir.file("m.ecotta"), small_bundle(true));
  auto b = load_bundle(dir.file("m.ecotta"));
  b.model->apply_norm_mode(NormMode::Source);
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({4, 3, 32, 32});
  const auto before = b.model->forward(x);
  repartition(b, {3, 3});
  EXPECT_EQ(b.model->num_parts(), 2u);
  EXPECT_EQ(b.model->partition(), (std::vector<int64_t>{3, 3}));
  EXPECT_FALSE(b.meta);
  EXPECT_TRUE(b.robust_anchor.empty());
  EXPECT_TRUE(torch::equal(b.model->forward(x), before));
  for (const auto& p : b.model->parameters()) EXPECT_FALSE(p.requires_grad());
  attach_meta_networks(b);  // K = 2 meta networks fit the new parts
  EXPECT_EQ(b.meta->size(), 2u);
  // The new split is part of the bundle: saved and loaded as such.
  save_bundle(dir.file("k2.ecotta"), b);
  EXPECT_EQ(load_bundle(dir.file("k2.ecotta")).model->num_parts(), 2u);
  EXPECT_THROW(repartition(b, {3, 4}), std::invalid_argument);  // 7 blocks of 6
}
