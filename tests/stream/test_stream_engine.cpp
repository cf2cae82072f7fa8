// The streaming facade without GStreamer: frames in, predictions out, an
// adaptation worker beside it.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "adapt/methods.h"
#include "model/bundle.h"
#include "../engine/small_bundle.h"
#include "stream/engine.h"
#include "../support/temp_dir.h"
#include "stream_test_support.h"

using namespace ecotta;
using ecotta::testing::TempDir;
using namespace ecotta::stream_test;

TEST(StreamEngine, MissingModelGivesAnErrorNamingThePath) {
  auto c = config_for("/nonexistent/dir/model.ecotta");
  try {
    stream::Engine engine(c);
    FAIL() << "no error";
  } catch (const stream::EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/model.ecotta"), std::string::npos) << e.what();
  }
}

TEST(StreamEngine, GarbageAndTruncatedBundlesAreRefusedWithThePath) {
  TempDir dir;
  const auto good = small_bundle_file(dir);
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  const auto truncated = dir.file("truncated.ecotta");
  std::ofstream(truncated, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  const auto garbage = dir.file("garbage.ecotta");
  std::ofstream(garbage, std::ios::binary) << "this is not a model";
  const auto empty = dir.file("empty.ecotta");
  std::ofstream(empty, std::ios::binary) << "";
  for (const auto& path : {truncated, garbage, empty}) {
    try {
      stream::Engine engine(config_for(path));
      ADD_FAILURE() << "accepted " << path;
    } catch (const stream::EngineError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(StreamEngine, AnUnknownMethodOrDeviceIsRefused) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.method = "magic";
  try {
    stream::Engine engine(c);
    ADD_FAILURE() << "accepted method 'magic'";
  } catch (const stream::EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("auto"), std::string::npos) << e.what();
  }
  c.method = "ecotta";
  c.device = "tpu";
  EXPECT_THROW(stream::Engine{c}, stream::EngineError);
}

TEST(StreamEngine, PredictsEveryFrameAndAdaptsBesideIt) {
  TempDir dir;
  stream::Engine engine(config_for(small_bundle_file(dir)));
  EXPECT_FALSE(engine.segmentation());
  EXPECT_EQ(engine.labels().size(), 10u);
  Picture first(1);
  const auto before = engine.process(first.view);
  EXPECT_GE(before.class_id, 0);
  EXPECT_LT(before.class_id, 10);
  EXPECT_EQ(before.top.size(), 5u);
  EXPECT_EQ(before.snapshot, 1u);  // the state as loaded
  run_until_steps(engine, 5, 100);
  const auto st = engine.stats();
  EXPECT_GE(st.adapt_steps, 5);
  EXPECT_GT(st.peak_adapt_bytes, 0);
  EXPECT_GT(st.snapshot, 1u);
  // The same picture now goes through the adapted meta networks.
  const auto after = engine.process(first.view);
  EXPECT_GT(after.snapshot, before.snapshot);
  bool changed = false;
  for (size_t i = 0; i < after.top.size(); ++i)
    changed |= after.top[i].second != before.top[i].second || after.top[i].first != before.top[i].first;
  EXPECT_TRUE(changed) << "the prediction did not move after " << st.adapt_steps << " steps";
}

TEST(StreamEngine, AdaptationOffChangesNothing) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.adapt = false;
  stream::Engine engine(c);
  Picture first(1);
  const auto before = engine.process(first.view);
  for (uint64_t i = 0; i < 60; ++i) {
    Picture p(i + 10);
    engine.process(p.view);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto after = engine.process(first.view);
  EXPECT_EQ(engine.stats().adapt_steps, 0);
  EXPECT_EQ(engine.stats().samples_offered, 0u);
  ASSERT_EQ(after.top.size(), before.top.size());
  for (size_t i = 0; i < after.top.size(); ++i) {
    EXPECT_EQ(after.top[i].first, before.top[i].first);
    EXPECT_EQ(after.top[i].second, before.top[i].second);  // robust statistics do not move on inference
  }
}

TEST(StreamEngine, InferenceIntervalReusesTheLastResult) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.adapt = false;
  c.inference_interval = 3;
  stream::Engine engine(c);
  std::vector<bool> reused;
  for (uint64_t i = 0; i < 7; ++i) {
    Picture p(i);
    const auto r = engine.process(p.view);
    EXPECT_EQ(r.frame, i);
    reused.push_back(r.reused);
  }
  EXPECT_EQ(reused, (std::vector<bool>{false, true, true, false, true, true, false}));
  EXPECT_EQ(engine.stats().inferences, 3u);
}

TEST(StreamEngine, CheckpointSavedAtStopIsRestoredAtStart) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.checkpoint_path = dir.file("state.ckpt");
  Picture probe(7);
  stream::Prediction adapted;
  {
    stream::Engine engine(c);
    run_until_steps(engine, 4, 200);
    engine.set_adapt(false);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a step in flight publishes
    adapted = engine.process(probe.view);
    engine.stop();
  }
  ASSERT_TRUE(std::filesystem::exists(c.checkpoint_path));
  c.adapt = false;
  stream::Engine restored(c);
  EXPECT_TRUE(restored.take_warnings().empty());
  const auto again = restored.process(probe.view);
  ASSERT_EQ(again.top.size(), adapted.top.size());
  for (size_t i = 0; i < again.top.size(); ++i) {
    EXPECT_EQ(again.top[i].first, adapted.top[i].first);
    EXPECT_FLOAT_EQ(again.top[i].second, adapted.top[i].second);
  }
}

TEST(StreamEngine, ACheckpointOfAnotherMethodIsAWarningAndTheBundleIsUsed) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.checkpoint_path = dir.file("state.ckpt");
  c.method = "tent";
  c.adapt = false;
  { stream::Engine engine(c); }  // saves tent's state at stop
  c.method = "ecotta";
  stream::Engine engine(c);
  const auto warnings = engine.take_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("checkpoint-location"), std::string::npos) << warnings[0];
  Picture p(1);
  EXPECT_GE(engine.process(p.view).class_id, 0);
}

TEST(StreamEngine, AdaptationBytesStayUnderTheMemoryCap) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.adapt_batch = 32;
  // Measure one uncapped step first, then cap at half of it.
  int64_t uncapped = 0;
  {
    stream::Engine engine(c);
    run_until_steps(engine, 2);
    uncapped = engine.stats().peak_adapt_bytes;
  }
  ASSERT_GT(uncapped, 0);
  c.memory_cap = uncapped / 2;
  stream::Engine engine(c);
  EXPECT_FALSE(engine.stats().plan.empty());
  run_until_steps(engine, 5);
  const auto st = engine.stats();
  EXPECT_GE(st.adapt_steps, 5);
  EXPECT_LE(st.peak_adapt_bytes, c.memory_cap) << st.plan;
}

TEST(StreamEngine, RottaUnderAMemoryCapIsRefusedWithTheReason) {
  // RoTTA's step trains on its memory bank whatever the batch: no plan can
  // shrink it, and the user is told so instead of getting a wrong plan.
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.method = "rotta";
  c.memory_cap = 64 << 20;
  try {
    stream::Engine engine(c);
    FAIL() << "accepted a memory cap for rotta";
  } catch (const stream::EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("memory-cap"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("memory bank"), std::string::npos) << e.what();
  }
  c.memory_cap = 0;
  stream::Engine engine(c);  // uncapped it runs
  EXPECT_EQ(engine.method(), "rotta");
}

TEST(StreamEngine, ACapBelowStatisticsOnlyIsAnErrorAndATightOneFallsBackToStatistics) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.memory_cap = 1000;  // not even one forward of one sample
  try {
    stream::Engine engine(c);
    FAIL() << "accepted a cap below statistics-only adaptation";
  } catch (const stream::EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("statistics-only"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("memory-cap"), std::string::npos) << e.what();
  }
  // A cap that fits a forward but no gradient step: statistics only, said so.
  c.memory_cap = 1200 * 1024;
  stream::Engine engine(c);
  EXPECT_EQ(engine.method(), "norm");
  EXPECT_EQ(engine.take_warnings().size(), 1u);
  run_until_steps(engine, 3);
  EXPECT_LE(engine.stats().peak_adapt_bytes, c.memory_cap) << engine.stats().plan;
}

TEST(StreamEngine, LabelsFileReplacesTheLabelsAndAWrongCountIsRefused) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.labels_file = dir.file("labels.txt");
  {
    std::ofstream out(c.labels_file);
    for (int i = 0; i < 10; ++i) out << "class " << i << "\n";
  }
  stream::Engine engine(c);
  EXPECT_EQ(engine.labels()[3], "class 3");
  std::ofstream(c.labels_file) << "only\ntwo\n";
  try {
    stream::Engine wrong(c);
    FAIL() << "accepted a labels file of the wrong length";
  } catch (const stream::EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("labels.txt"), std::string::npos) << e.what();
  }
}

TEST(StreamEngine, AutoRunsEachTasksValidatedMethod) {
  // The default, method=auto: EcoTTA for a classifier, robust statistics
  // only for a segmenter (adapt::default_method); a named method is kept.
  TempDir dir;
  auto classify = config_for(small_bundle_file(dir));
  ASSERT_EQ(classify.method, "auto");
  EXPECT_EQ(stream::Engine(classify).method(), "ecotta");
  auto segment = config_for(std::string(ECOTTA_MODELS_DIR) + "/segmenter-ecotta.ecotta");
  EXPECT_EQ(stream::Engine(segment).method(), "norm");
  segment.method = "ecotta";
  EXPECT_EQ(stream::Engine(segment).method(), "ecotta");
  EXPECT_EQ(stream::method_names().back(), "auto");
}

TEST(StreamEngine, SegmenterGivesAClassMapAndShares) {
  auto c = config_for(std::string(ECOTTA_MODELS_DIR) + "/segmenter-ecotta.ecotta");
  c.adapt = false;
  stream::Engine engine(c);
  ASSERT_TRUE(engine.segmentation());
  Picture p(3, 160, 120);
  const auto r = engine.process(p.view);
  EXPECT_EQ(r.map_width, engine.model_width());
  EXPECT_EQ(r.map_height, engine.model_height());
  EXPECT_EQ(r.class_map.size(), static_cast<size_t>(r.map_width * r.map_height));
  ASSERT_EQ(r.class_share.size(), engine.labels().size());
  double total = 0;
  for (float s : r.class_share) total += s;
  EXPECT_NEAR(total, 1.0, 1e-5);
  EXPECT_FLOAT_EQ(r.confidence, r.class_share[static_cast<size_t>(r.class_id)]);
  // Squash geometry: the model saw the whole frame.
  EXPECT_DOUBLE_EQ(r.view.width, 160);
  EXPECT_DOUBLE_EQ(r.view.height, 120);
}

TEST(StreamEngine, ReaderPredictsAsTheTrainerAfterASnapshot) {
  // The contract behind the engine: a second method instance holding the
  // trainer's adapted_state() predicts what the trainer predicts, in robust
  // mode included.
  TempDir dir;
  const auto path = small_bundle_file(dir);
  for (const std::string name : {"ecotta", "tent", "norm", "cotta", "rotta"}) {
    auto trainer_bundle = model::load_bundle(path);
    auto reader_bundle = model::load_bundle(path);
    trainer_bundle.info.normalization = reader_bundle.info.normalization = model::NormMode::Robust;
    adapt::MethodOptions o;
    o.baseline_norm = model::NormMode::Robust;
    o.cotta_augmentations = 2;
    o.rotta_update_every = 8;  // an update every batch, so the teacher moves
    auto trainer = adapt::make_method(name, trainer_bundle, o);
    auto reader = adapt::make_method(name, reader_bundle, o);
    torch::manual_seed(5);
    for (int i = 0; i < 3; ++i) trainer->forward_and_adapt(torch::randn({8, 3, 32, 32}));
    const auto state = trainer->adapted_state();
    auto live = reader->adapted_state();
    ASSERT_EQ(live.size(), state.size()) << name;
    {
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < live.size(); ++i) live[i].copy_(state[i]);
    }
    const auto x = torch::randn({1, 3, 32, 32});
    EXPECT_TRUE(torch::allclose(reader->predict(x), trainer->predict(x), 1e-5, 1e-6)) << name;
    // predict() leaves the robust statistics where they were.
    const auto before = test_support::snapshot(*reader_bundle.model);
    reader->predict(x);
    EXPECT_TRUE(test_support::all_equal(before, test_support::snapshot(*reader_bundle.model))) << name;
  }
}
