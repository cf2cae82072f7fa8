#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include "adapt/method_registry.h"
#include "adapt/methods.h"
#include "bench/analytic_memory.h"
#include "adapt/model_utils.h"
#include "adapt/reset_rule.h"
#include "small_bundle.h"

using namespace ecotta;
using test_support::all_equal;
using test_support::images;
using test_support::small_warm_bundle;
using test_support::snapshot;

namespace {

// Inputs a random network is confident about would be luck; these are
// shaped like normalized images.
std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

}  // namespace

TEST(MethodRegistry, EveryEntryBuildsItsOwnMethodAndSaysWhatItCan) {
  for (const auto& entry : adapt::method_registry()) {
    auto bundle = small_warm_bundle();
    auto method = entry.make(bundle, {});
    EXPECT_EQ(method->name(), entry.name);
    EXPECT_FALSE(entry.summary.empty()) << entry.name;
    // What the registry says about training matches the method's parameters.
    EXPECT_EQ(entry.trains, !method->trainable_parameters().empty()) << entry.name;
    EXPECT_EQ(entry.cost == adapt::CostModel::Nothing, !entry.trains) << entry.name;
  }
  EXPECT_EQ(adapt::method_names().size(), adapt::method_registry().size());
}

TEST(MethodRegistry, AnUnknownNameGetsNoSilentZeroBytes) {
  auto bundle = small_warm_bundle();
  const auto geometry = bench::probe_geometry(*bundle.model, 32, 32);
  EXPECT_GT(bench::analytic_adapt_bytes("tent", geometry, 8, 100, 0), 0);
  EXPECT_THROW(bench::analytic_adapt_bytes("tnet", geometry, 8, 100, 0), std::invalid_argument);
}

TEST(Methods, UnknownNameIsRefusedWithTheKnownOnes) {
  auto bundle = small_warm_bundle();
  try {
    adapt::make_method("tnet", bundle, {});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("tent"), std::string::npos) << e.what();
  }
}

TEST(Methods, SourceAndNormChangeNothingAndTrainNothing) {
  for (const std::string name : {"source", "norm"}) {
    auto bundle = small_warm_bundle();
    const auto before = snapshot(*bundle.model);
    auto method = adapt::make_method(name, bundle, {});
    for (int i = 0; i < 5; ++i) method->forward_and_adapt(images(8, i));
    EXPECT_TRUE(all_equal(before, snapshot(*bundle.model))) << name;
    EXPECT_EQ(method->trainable_count(), 0) << name;
    EXPECT_EQ(method->persistent_bytes(), 0) << name;
  }
}

TEST(Methods, SourceAndNormPredictDifferentlyUnderShift) {
  // Norm normalizes with the batch's statistics, source with the stored ones:
  // on inputs far from the source statistics their logits must differ.
  auto a = small_warm_bundle(), b = small_warm_bundle();
  auto source = adapt::make_method("source", a, {});
  auto norm = adapt::make_method("norm", b, {});
  const auto x = images(8, 3) * 3 + 1;
  EXPECT_FALSE(torch::allclose(source->forward_and_adapt(x), norm->forward_and_adapt(x), 1e-3, 1e-3));
}

TEST(Methods, TentTrainsOnlyBatchNormAffineParameters) {
  auto bundle = small_warm_bundle();
  auto bn = adapt::batch_norm_affine(*bundle.model, "test");
  std::vector<torch::Tensor> bn_before, other_before;
  for (const auto& p : bn) bn_before.push_back(p.detach().clone());
  std::vector<torch::Tensor> others;
  for (const auto& p : bundle.model->parameters()) {
    bool is_bn = false;
    for (const auto& q : bn) is_bn = is_bn || p.is_same(q);
    if (!is_bn) others.push_back(p), other_before.push_back(p.detach().clone());
  }
  auto method = adapt::make_method("tent", bundle, {});
  EXPECT_EQ(method->trainable_count(), [&] { int64_t n = 0; for (auto& p : bn) n += p.numel(); return n; }());
  for (int i = 0; i < 20; ++i) method->forward_and_adapt(images(16, i));
  std::vector<torch::Tensor> other_after, bn_after;
  for (const auto& p : others) other_after.push_back(p.detach().clone());
  for (const auto& p : bn) bn_after.push_back(p.detach().clone());
  EXPECT_TRUE(all_equal(other_before, other_after));
  EXPECT_FALSE(all_equal(bn_before, bn_after));
  method->reset();
  bn_after.clear();
  for (const auto& p : bn) bn_after.push_back(p.detach().clone());
  EXPECT_TRUE(all_equal(bn_before, bn_after));
}

TEST(Methods, EataSkipsUnreliableSamplesAndHoldsFisherWeights) {
  // An untrained network is unsure of everything (entropy near ln C, above
  // E0 = 0.4 ln C): EATA must not update at all.
  auto bundle = small_warm_bundle();
  adapt::MethodOptions o;
  o.eata_source_samples = images(32, 99);
  const auto before = snapshot(*bundle.model);
  auto method = adapt::make_method("eata", bundle, o);
  for (int i = 0; i < 5; ++i) method->forward_and_adapt(images(16, i));
  EXPECT_TRUE(all_equal(before, snapshot(*bundle.model)));
  // Fisher weights and the anchor copy are held on top of Adam's moments.
  const int64_t bn_bytes = method->trainable_count() * 4;
  EXPECT_EQ(method->persistent_bytes(), bn_bytes /*reset copy*/ + 2 * bn_bytes /*Adam*/ + 2 * bn_bytes /*Fisher, anchor*/ +
                                            11 * 4 /*reset copy of the prediction average over 10 classes and its flag*/ +
                                            [&] { int64_t n = 0; for (auto& b : bundle.model->buffers()) n += b.numel() * 4; return n; }());
}

TEST(Methods, EataTrainsOnConfidentSamples) {
  // Scaling the last layer makes the random network confident.
  auto bundle = small_warm_bundle();
  {
    torch::NoGradGuard g;
    auto params = bundle.model->parameters();
    params[params.size() - 2].mul_(200);
  }
  auto bn = adapt::batch_norm_affine(*bundle.model, "test");
  std::vector<torch::Tensor> bn_before;
  for (const auto& p : bn) bn_before.push_back(p.detach().clone());
  auto method = adapt::make_method("eata", bundle, {});
  for (int i = 0; i < 3; ++i) method->forward_and_adapt(images(16, i));
  std::vector<torch::Tensor> bn_after;
  for (const auto& p : bn) bn_after.push_back(p.detach().clone());
  EXPECT_FALSE(all_equal(bn_before, bn_after));
}

TEST(Methods, EataPredictionAverageIsSavedRestoredAndReset) {
  // The average of recent predictions decides which samples EATA trains on:
  // it is adapted state like the BN parameters.
  auto bundle = small_warm_bundle();
  {
    torch::NoGradGuard g;
    auto params = bundle.model->parameters();
    params[params.size() - 2].mul_(200);
  }
  auto method = adapt::make_method("eata", bundle, {});
  const auto copy = [&] {
    std::vector<torch::Tensor> out;
    for (const auto& t : method->adapted_state()) out.push_back(t.detach().clone());
    return out;
  };
  for (int i = 0; i < 3; ++i) method->forward_and_adapt(images(16, i));
  const auto adapted = copy();
  const size_t n = adapted.size();
  ASSERT_GE(n, 2u);
  EXPECT_NEAR(adapted[n - 2].sum().item<double>(), 1.0, 1e-5);  // an average of distributions over the 10 classes
  EXPECT_EQ(adapted[n - 1].item<float>(), 1.0f);                  // begun
  const auto path = temp_path("eata-state.pt");
  method->save_state(path);
  method->reset();
  EXPECT_EQ(method->adapted_state()[n - 2].abs().sum().item<double>(), 0.0);
  EXPECT_EQ(method->adapted_state()[n - 1].item<float>(), 0.0f);
  method->load_state(path);
  EXPECT_TRUE(all_equal(adapted, copy()));
  std::remove(path.c_str());
}

TEST(Methods, CottaTeacherLagsTheStudentAndResetReturnsToTheSource) {
  auto bundle = small_warm_bundle();
  const auto source = snapshot(*bundle.model);
  adapt::MethodOptions o;
  o.cotta_augmentations = 2;  // keep the test fast; the default is the paper's 32
  auto method = adapt::make_method("cotta", bundle, o);
  EXPECT_EQ(method->trainable_count(), [&] { int64_t n = 0; for (auto& p : bundle.model->parameters()) n += p.numel(); return n; }());
  for (int i = 0; i < 3; ++i) method->forward_and_adapt(images(8, i));
  EXPECT_FALSE(all_equal(source, snapshot(*bundle.model)));
  // Teacher + anchor copies and Adam's two moments: at least 4x the parameters.
  EXPECT_GE(method->persistent_bytes(), 4 * method->trainable_count() * 4);
  method->reset();
  EXPECT_TRUE(all_equal(source, snapshot(*bundle.model)));
}

TEST(Methods, CottaStochasticRestoreReturnsAboutOnePercentOfWeightsPerStep) {
  auto bundle = small_warm_bundle();
  const auto source = bundle.model->parameters();
  std::vector<torch::Tensor> before;
  for (const auto& p : source) before.push_back(p.detach().clone());
  adapt::MethodOptions o;
  o.cotta_augmentations = 1;
  o.cotta_lr = 1e-2;  // every weight moves on the first step
  auto method = adapt::make_method("cotta", bundle, o);
  method->forward_and_adapt(images(8, 1));
  int64_t same = 0, total = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    same += (bundle.model->parameters()[i] == before[i]).sum().item<int64_t>();
    total += before[i].numel();
  }
  const double fraction = static_cast<double>(same) / total;
  EXPECT_GT(fraction, 0.005);
  EXPECT_LT(fraction, 0.02);
}

TEST(Methods, NonFiniteStepsNeverReachTheParameters) {
  for (const std::string name : {"tent", "cotta", "ecotta"}) {
    auto bundle = small_warm_bundle();
    adapt::MethodOptions o;
    o.cotta_augmentations = 1;
    auto method = adapt::make_method(name, bundle, o);
    const auto before = snapshot(*bundle.model);
    const auto meta_before = snapshot(*bundle.meta);
    auto x = images(4, 5);
    x[1][2][3][4] = std::numeric_limits<float>::infinity();
    method->forward_and_adapt(x);
    EXPECT_EQ(method->skipped_steps(), 1) << name;
    EXPECT_TRUE(all_equal(before, snapshot(*bundle.model))) << name;
    EXPECT_TRUE(all_equal(meta_before, snapshot(*bundle.meta))) << name;
  }
}

TEST(Methods, EcotTaCanTrainOnlyTheDeeperParts) {
  auto bundle = small_warm_bundle();
  adapt::MethodOptions o;
  o.ecotta.first_trained_part = 2;
  const auto first = snapshot(bundle.meta->block(0));
  const auto second = snapshot(bundle.meta->block(1));
  const auto last = snapshot(bundle.meta->block(3));
  auto method = adapt::make_method("ecotta", bundle, o);
  for (int i = 0; i < 5; ++i) method->forward_and_adapt(images(8, i));
  // Batch-mode BN stores no statistics, so the shallow blocks are untouched.
  EXPECT_TRUE(all_equal(first, snapshot(bundle.meta->block(0))));
  EXPECT_TRUE(all_equal(second, snapshot(bundle.meta->block(1))));
  EXPECT_FALSE(all_equal(last, snapshot(bundle.meta->block(3))));
  o.ecotta.first_trained_part = 4;
  auto again = small_warm_bundle();
  EXPECT_THROW(adapt::make_method("ecotta", again, o), std::invalid_argument);
}

TEST(Methods, EcoTtasTrainedPartsCanChangeBetweenSteps) {
  // What a memory cap lowered while playing does: all parts train, then
  // only the last two, then all again.
  auto bundle = small_warm_bundle();
  auto method = adapt::make_method("ecotta", bundle, {});
  method->forward_and_adapt(images(8, 0));
  method->set_first_trained_part(2);
  EXPECT_EQ(method->trainable_count(), [&] {
    int64_t n = 0;
    for (size_t k = 2; k < bundle.meta->size(); ++k)
      for (const auto& p : bundle.meta->block(k).parameters()) n += p.numel();
    return n;
  }());
  const auto first = snapshot(bundle.meta->block(0));
  const auto last = snapshot(bundle.meta->block(3));
  for (int i = 1; i < 4; ++i) method->forward_and_adapt(images(8, i));
  EXPECT_TRUE(all_equal(first, snapshot(bundle.meta->block(0))));
  EXPECT_FALSE(all_equal(last, snapshot(bundle.meta->block(3))));
  method->set_first_trained_part(0);
  method->forward_and_adapt(images(8, 5));
  EXPECT_FALSE(all_equal(first, snapshot(bundle.meta->block(0))));
  EXPECT_THROW(method->set_first_trained_part(4), std::invalid_argument);
  // Methods without parts accept only "all of it".
  auto tent_bundle = small_warm_bundle();
  auto tent = adapt::make_method("tent", tent_bundle, {});
  EXPECT_NO_THROW(tent->set_first_trained_part(0));
  EXPECT_THROW(tent->set_first_trained_part(1), std::invalid_argument);
}

TEST(Methods, AdaptedStateSurvivesASaveAndLoad) {
  auto bundle = small_warm_bundle();
  auto method = adapt::make_method("ecotta", bundle, {});
  for (int i = 0; i < 5; ++i) method->forward_and_adapt(images(8, i));
  const auto adapted = snapshot(*bundle.meta);
  const auto path = temp_path("ecotta-state.pt");
  method->save_state(path);
  method->reset();
  EXPECT_FALSE(all_equal(adapted, snapshot(*bundle.meta)));
  method->load_state(path);
  EXPECT_TRUE(all_equal(adapted, snapshot(*bundle.meta)));
  std::remove(path.c_str());
}

TEST(Methods, LoadingAForeignOrDamagedStateFailsClearlyAndChangesNothing) {
  auto bundle = small_warm_bundle();
  auto tent_bundle = small_warm_bundle();
  auto ecotta = adapt::make_method("ecotta", bundle, {});
  auto tent = adapt::make_method("tent", tent_bundle, {});
  const auto tent_path = temp_path("tent-state.pt");
  tent->save_state(tent_path);
  const auto before = snapshot(*bundle.meta);
  try {
    ecotta->load_state(tent_path);
    FAIL() << "loaded Tent's state into EcoTTA";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ecotta"), std::string::npos) << e.what();
  }
  const auto path = temp_path("cut-state.pt");
  ecotta->save_state(path);
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
  }
  EXPECT_THROW(ecotta->load_state(path), std::runtime_error);
  EXPECT_THROW(ecotta->load_state(temp_path("no-such-state.pt")), std::runtime_error);
  EXPECT_TRUE(all_equal(before, snapshot(*bundle.meta)));
  std::remove(path.c_str());
  std::remove(tent_path.c_str());
}

TEST(ResetRule, FiresOnCollapseOnlyAfterItsWarmup) {
  adapt::ResetRule rule({.enabled = true, .max_dropped = 3, .collapse_entropy = 0.05, .momentum = 0.5, .warmup_batches = 4});
  EXPECT_FALSE(rule.observe(0.001, false));
  EXPECT_FALSE(rule.observe(0.001, false));
  EXPECT_FALSE(rule.observe(0.001, false));
  EXPECT_TRUE(rule.observe(0.001, false));
  rule.restart();
  for (int i = 0; i < 20; ++i) EXPECT_FALSE(rule.observe(0.3, false));
}

TEST(ResetRule, FiresAfterRepeatedDroppedUpdates) {
  adapt::ResetRule rule;
  EXPECT_FALSE(rule.observe(std::nan(""), true));
  EXPECT_FALSE(rule.observe(std::nan(""), true));
  EXPECT_TRUE(rule.observe(std::nan(""), true));
  rule.restart();
  EXPECT_FALSE(rule.observe(0.5, true));
  EXPECT_FALSE(rule.observe(0.5, false));
  EXPECT_FALSE(rule.observe(0.5, true));
  EXPECT_FALSE(rule.observe(0.5, true));
}

TEST(ResetRule, ANearCertainMethodGoesBackToItsStart) {
  // A network certain of every prediction (last layer scaled up) is what a
  // collapsed adaptation looks like; the rule must reset EcoTTA to its
  // warmed-up meta networks.
  auto bundle = small_warm_bundle();
  {
    torch::NoGradGuard g;
    auto params = bundle.model->parameters();
    params[params.size() - 2].mul_(1000);
  }
  adapt::MethodOptions o;
  o.ecotta_reset = {.enabled = true, .max_dropped = 3, .collapse_entropy = 0.05, .momentum = 0.5, .warmup_batches = 3};
  auto method = adapt::make_method("ecotta", bundle, o);
  for (int i = 0; i < 3; ++i) method->forward_and_adapt(images(16, i));
  EXPECT_EQ(method->resets(), 1);
  EXPECT_LT(method->reset_rule().entropy_ema(), 0);  // restarted
}

TEST(ResetRule, FiresWhenSpatialPredictionsCollapseOntoOneClass) {
  // Entropy stays high (0.3 > 0.05); what changes is how many classes the
  // pixels are predicted as: from 4 equally to nearly all one.
  adapt::ResetRule rule({.enabled = true, .max_dropped = 3, .collapse_entropy = 0.05, .momentum = 0.5,
                         .warmup_batches = 4, .collapse_diversity = 0.5});
  const std::vector<double> spread = {0.25, 0.25, 0.25, 0.25}, collapsed = {0.97, 0.01, 0.01, 0.01};
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(rule.observe(0.3, false, spread)) << i;
  EXPECT_NEAR(rule.reference_diversity(), 4.0, 1e-9);
  int batches = 0;
  while (!rule.observe(0.3, false, collapsed)) ASSERT_LT(++batches, 10);
  EXPECT_GE(batches, 1);  // the EMA needs a few collapsed batches, not one
  EXPECT_LT(rule.diversity(), 2.0);
  // A stream whose class shares shift but stay spread does not fire, and a
  // restart measures the reference anew.
  rule.restart();
  EXPECT_EQ(rule.reference_diversity(), 0);
  for (int i = 0; i < 30; ++i) {
    const std::vector<double> shifting = i % 2 ? std::vector<double>{0.4, 0.3, 0.2, 0.1} : spread;
    EXPECT_FALSE(rule.observe(0.3, false, shifting)) << i;
  }
  // Classification passes no shares: only the entropy and dropped-update
  // triggers apply.
  rule.restart();
  for (int i = 0; i < 30; ++i) EXPECT_FALSE(rule.observe(0.3, false)) << i;
}

TEST(ResetRule, ASegmenterCollapsedOntoOneClassGoesBackToItsStart) {
  // EcoTTA on a segmenter: after the reference is taken, the frozen
  // classifier's bias is raised for class 0 until every pixel is predicted
  // as class 0 while the per-pixel entropy stays far from zero: what a
  // segmenter collapsed onto background looks like. Only the diversity
  // trigger can see it (the entropy threshold is 0 here).
  torch::manual_seed(5);
  model::Bundle bundle;
  bundle.info.task = model::Task::Segment;
  bundle.info.arch_json = model::arch_for("segmenter", 11);
  for (int i = 0; i < 11; ++i) bundle.info.labels.push_back(std::to_string(i));
  bundle.info.input.height = bundle.info.input.width = 32;
  bundle.info.normalization = model::NormMode::Batch;
  bundle.model = model::build_model(bundle.info.arch_json);
  model::attach_meta_networks(bundle);
  adapt::MethodOptions o;
  o.ecotta_reset = {.enabled = true, .max_dropped = 3, .collapse_entropy = 0, .momentum = 0.5,
                    .warmup_batches = 4, .collapse_diversity = 0.5};
  const auto scenes = [](uint64_t seed) {
    torch::manual_seed(seed);
    return torch::randn({2, 3, 32, 32});
  };
  auto method = adapt::make_method("ecotta", bundle, o);
  torch::Tensor last;
  for (int i = 0; i < 12; ++i) last = method->forward_and_adapt(scenes(i));
  EXPECT_EQ(method->resets(), 0);  // an uncollapsed segmenter keeps adapting
  ASSERT_GT(method->reset_rule().reference_diversity(), 1.5);

  torch::Tensor bias;
  for (const auto& p : bundle.model->named_parameters())
    if (p.key() == "classifier.bias") bias = p.value();
  ASSERT_TRUE(bias.defined());
  {
    torch::NoGradGuard g;
    bias[0] += (last.max() - last.min()).item<float>() + 1;
  }
  for (int i = 0; i < 12 && method->resets() == 0; ++i) {
    const auto y = method->forward_and_adapt(scenes(100 + i));
    EXPECT_TRUE(y.argmax(1).eq(0).all().item<bool>());
  }
  EXPECT_EQ(method->resets(), 1);
  EXPECT_LT(method->reset_rule().entropy_ema(), 0);          // the rule restarted after the reset...
  EXPECT_EQ(method->reset_rule().reference_diversity(), 0);  // ...and measures its reference anew
}

TEST(Methods, EcoTtaAdaptsOneFrameAtATimeWithRobustStatistics) {
  // A video element sees batch 1. With batch statistics a single frame
  // normalizes to nonsense; robust BN (EMA anchored at the source) does not.
  auto bundle = small_warm_bundle();
  bundle.info.normalization = model::NormMode::Robust;
  auto method = adapt::make_method("ecotta", bundle, {});
  const auto before = snapshot(*bundle.meta);
  const auto network_before = snapshot(*bundle.model);
  for (int i = 0; i < 30; ++i) {
    const auto y = method->forward_and_adapt(images(1, 100 + i));
    ASSERT_TRUE(torch::isfinite(y).all().item<bool>()) << i;
  }
  EXPECT_EQ(method->skipped_steps(), 0);
  EXPECT_FALSE(all_equal(before, snapshot(*bundle.meta)));
  // The network's weights stay frozen; its robust EMA statistics moved, and
  // reset puts them back with the meta networks.
  EXPECT_FALSE(all_equal(network_before, snapshot(*bundle.model)));
  for (const auto& p : bundle.model->parameters()) EXPECT_FALSE(p.requires_grad());
  method->reset();
  EXPECT_TRUE(all_equal(before, snapshot(*bundle.meta)));
  EXPECT_TRUE(all_equal(network_before, snapshot(*bundle.model)));
}
