// `ecotta import`, `inspect`, `eval` and `train` run as a user would, and the
// shipped bundles checked against models/manifest.json.
#include <gtest/gtest.h>

#include <cstdio>

#include <fstream>

#include <nlohmann/json.hpp>

#include "../support/ecotta_runner.h"
#include "../support/temp_dir.h"

using ecotta::testing::read_text;
using ecotta::testing::run_ecotta;
using ecotta::testing::TempDir;
using nlohmann::json;

#ifndef ECOTTA_SOURCE_DIR
#error "ECOTTA_SOURCE_DIR must point at the repository"
#endif

namespace {

std::string repo(const std::string& rel) { return std::string(ECOTTA_SOURCE_DIR) + "/" + rel; }

std::string import_fixture(const TempDir& dir) {
  const auto r = run_ecotta("import --torchscript '" + repo("models/fixtures/tiny_resnet_scripted.pt") +
                                "' --partition '" + repo("models/fixtures/tiny_resnet_partition.json") +
                                "' --labels a,b,c,d,e,f,g,h,i,j --out '" + dir.file("ts.ecotta") + "'",
                            dir);
  EXPECT_EQ(r.status, 0) << r.err;
  return dir.file("ts.ecotta");
}

}  // namespace

TEST(ModelCli, ImportThenInspectDescribesPartsAndParameters) {
  TempDir dir;
  const auto bundle = import_fixture(dir);
  const auto r = run_ecotta("inspect --model '" + bundle + "' --json '" + dir.file("i.json") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = json::parse(read_text(dir.file("i.json")));
  EXPECT_EQ(j["task"], "classify");
  EXPECT_EQ(j["classes"], 10);
  ASSERT_EQ(j["parts"].size(), 4u);
  EXPECT_EQ(j["parts"][1]["in_shape"], json({8, 32, 32}));
  EXPECT_EQ(j["parts"][1]["out_shape"], json({16, 16, 16}));
  EXPECT_GT(j["frozen_params"].get<int64_t>(), 0);
  EXPECT_GT(j["meta_params"].get<int64_t>(), 0);
  EXPECT_GT(j["analytic_adapt_bytes"].get<int64_t>(), 0);
}

TEST(ModelCli, ImportRefusesWrongLabelCountAndTracedModules) {
  TempDir dir;
  auto r = run_ecotta("import --torchscript '" + repo("models/fixtures/tiny_resnet_scripted.pt") + "' --partition '" +
                          repo("models/fixtures/tiny_resnet_partition.json") + "' --labels a,b --out '" +
                          dir.file("x.ecotta") + "'",
                      dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("10 classes"), std::string::npos) << r.err;
  r = run_ecotta("import --torchscript '" + repo("models/fixtures/tiny_resnet_traced.pt") + "' --partition '" +
                     repo("models/fixtures/tiny_resnet_partition.json") + "' --labels a,b,c,d,e,f,g,h,i,j --out '" +
                     dir.file("x.ecotta") + "'",
                 dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("torch.jit.script"), std::string::npos) << r.err;
}

TEST(ModelCli, EvalOfAMissingOrForeignModelIsAClearErrorNotACrash) {
  TempDir dir;
  auto r = run_ecotta("eval --model /nonexistent/m.ecotta --limit 10", dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("/nonexistent/m.ecotta"), std::string::npos) << r.err;
  std::ofstream(dir.file("junk.ecotta")) << "junk";
  r = run_ecotta("eval --model '" + dir.file("junk.ecotta") + "' --limit 10", dir);
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("not an ecotta model bundle"), std::string::npos) << r.err;
}

TEST(ModelCli, ScenesWritesImagesAndLabelMapsThatTrainReads) {
  TempDir dir;
  auto r = run_ecotta("scenes --split test --count 6 --seed 2 --out '" + dir.file("s") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto images = read_text(dir.file("s-images.idx"));
  const auto labels = read_text(dir.file("s-labels.idx"));
  ASSERT_EQ(images.size(), 4u + 4 * 4 + 6 * 64 * 64 * 3);
  ASSERT_EQ(labels.size(), 4u + 3 * 4 + 6 * 64 * 64);
  EXPECT_EQ(static_cast<int>(labels[3]), 3);  // N x H x W
  int items = 0;
  for (size_t i = 16; i < labels.size(); ++i) {
    ASSERT_LE(static_cast<int>(labels[i]), 10);
    items += labels[i] != 0;
  }
  EXPECT_GT(items, 6 * 64 * 64 / 20);  // a scene is not all background
  r = run_ecotta("train --model segmenter --images '" + dir.file("s-images.idx") + "' --labels '" +
                     dir.file("s-labels.idx") + "' --test-images '" + dir.file("s-images.idx") + "' --test-labels '" +
                     dir.file("s-labels.idx") + "' --epochs 1 --batch 4 --out '" + dir.file("seg.ecotta") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("mIoU"), std::string::npos) << r.out;
  // eval reports each class's IoU beside the mean, by label name; the mean
  // is theirs over the classes present.
  r = run_ecotta("eval --model '" + dir.file("seg.ecotta") + "' --limit 6 --json '" + dir.file("seg.json") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto ev = json::parse(read_text(dir.file("seg.json")));
  ASSERT_TRUE(ev["class_iou"].is_object()) << ev.dump();
  EXPECT_EQ(ev["class_iou"].size(), 11u);
  EXPECT_TRUE(ev["class_iou"].contains("background")) << ev.dump();
  double sum = 0;
  int present = 0;
  for (const auto& [name, iou] : ev["class_iou"].items())
    if (!iou.is_null()) {
      sum += iou.get<double>();
      ++present;
    }
  ASSERT_GT(present, 0);
  EXPECT_NEAR(sum / present, ev["miou"].get<double>(), 1e-12);
  // Warm-up on new scenes every epoch: --fraction of the default 12,000 per
  // epoch, recorded in the bundle's provenance; refused for a classifier.
  r = run_ecotta("warmup --model '" + dir.file("seg.ecotta") + "' --fresh-scenes --fraction 0.001 --epochs 2 --batch 4 "
                     "--eval-limit 4 --threads 1 --out '" + dir.file("seg-w.ecotta") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("12 new (every epoch) source samples"), std::string::npos) << r.err;
  r = run_ecotta("inspect --model '" + dir.file("seg-w.ecotta") + "' --json '" + dir.file("w.json") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto warm = json::parse(read_text(dir.file("w.json")))["provenance"]["warmup"];
  EXPECT_EQ(warm["fresh_scenes"], true) << warm.dump();
  EXPECT_EQ(warm["samples"], 12) << warm.dump();
  EXPECT_EQ(warm["epoch_log"].size(), 2u) << warm.dump();
  // --split: the same frozen network in K = 2 parts, so 2 meta networks
  // (WRN-40-2: 18 blocks). The segmenter's decoder reads early parts, so
  // another split would change its network: refused.
  r = run_ecotta("warmup --model '" + repo("models/wrn-40-2.ecotta") + "' --fraction 0.001 --epochs 1 --batch 8 "
                     "--eval-limit 8 --split 6,12 --out '" + dir.file("k2.ecotta") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("inspect --model '" + dir.file("k2.ecotta") + "' --json '" + dir.file("k2.json") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto k2 = json::parse(read_text(dir.file("k2.json")));
  EXPECT_EQ(k2["parts"].size(), 2u) << k2.dump();
  EXPECT_EQ(k2["provenance"]["warmup"]["split"], json::array({6, 12})) << k2.dump();
  r = run_ecotta("warmup --model '" + repo("models/wrn-40-2.ecotta") + "' --fraction 0.001 --epochs 1 --split 6,13 "
                     "--out '" + dir.file("bad.ecotta") + "'",
                 dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--split: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("covers 19 blocks but the network has 18"), std::string::npos) << r.err;
  r = run_ecotta("warmup --model '" + dir.file("seg.ecotta") + "' --fresh-scenes --fraction 0.001 --epochs 1 --split 4,4 "
                     "--out '" + dir.file("bad.ecotta") + "'",
                 dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("head reads its parts' outputs"), std::string::npos) << r.err;
  r = run_ecotta("warmup --model '" + repo("models/wrn-40-2.ecotta") + "' --fresh-scenes --out '" +
                     dir.file("x.ecotta") + "'",
                 dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("needs a segmenter"), std::string::npos) << r.err;
  // The confusion matrix counts every pixel of the 6 scenes once.
  ASSERT_EQ(ev["confusion"].size(), 11u);
  int64_t pixels = 0;
  for (const auto& row : ev["confusion"]) {
    ASSERT_EQ(row.size(), 11u);
    for (const auto& n : row) pixels += n.get<int64_t>();
  }
  EXPECT_EQ(pixels, 6 * 64 * 64);
  // Class labels where label maps are expected are refused with a reason.
  r = run_ecotta("corrupt --split test --corruption clean --limit 4 --out '" + dir.file("c") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("train --model segmenter --images '" + dir.file("c-images.idx") + "' --labels '" +
                     dir.file("c-labels.idx") + "' --epochs 1 --out '" + dir.file("x.ecotta") + "'",
                 dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("not data for task segment"), std::string::npos) << r.err;
}

TEST(ModelCli, TrainResumesFromItsCheckpointToTheSameWeights) {
  // Two epochs in one run, and a run stopped after one epoch then resumed,
  // give the same network: each epoch's order and augmentation depend on
  // (seed, epoch), and the checkpoint holds the optimizer's momentum.
  TempDir dir;
  const std::string common = " --model wrn-16-2 --limit 256 --batch 64 --seed 7 --threads 1 --eval-limit 100";
  auto r = run_ecotta("train" + common + " --epochs 2 --out '" + dir.file("a.ecotta") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("train" + common + " --epochs 2 --stop-after 1 --checkpoint '" + dir.file("c.ckpt") + "' --out '" +
                     dir.file("tmp.ecotta") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("train" + common + " --epochs 2 --checkpoint '" + dir.file("c.ckpt") + "' --out '" +
                     dir.file("b.ecotta") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("resuming"), std::string::npos) << r.err;
  const auto ja = run_ecotta("eval --model '" + dir.file("a.ecotta") + "' --limit 300 --json '" + dir.file("a.json") + "'", dir);
  const auto jb = run_ecotta("eval --model '" + dir.file("b.ecotta") + "' --limit 300 --json '" + dir.file("b.json") + "'", dir);
  ASSERT_EQ(ja.status, 0);
  ASSERT_EQ(jb.status, 0);
  EXPECT_EQ(json::parse(read_text(dir.file("a.json")))["accuracy"], json::parse(read_text(dir.file("b.json")))["accuracy"]);
}

TEST(ModelCli, TrainOnFreshScenesRecordsItAndResumesToTheSameWeights) {
  // --fresh-scenes: new scenes every epoch, epoch e's from a seed derived
  // from e, so a run stopped after epoch 1 and resumed trains on what an
  // uninterrupted run does. The bundle's provenance says so.
  TempDir dir;
  const std::string common = " --model segmenter --fresh-scenes --limit 8 --batch 4 --epochs 2 --seed 3 --threads 1 --eval-limit 8";
  auto r = run_ecotta("train" + common + " --out '" + dir.file("a.ecotta") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("new scenes every epoch"), std::string::npos) << r.err;
  r = run_ecotta("train" + common + " --stop-after 1 --checkpoint '" + dir.file("c.ckpt") + "' --out '" +
                     dir.file("tmp.ecotta") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("train" + common + " --checkpoint '" + dir.file("c.ckpt") + "' --out '" + dir.file("b.ecotta") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("resuming"), std::string::npos) << r.err;
  for (const char* name : {"a", "b"}) {
    r = run_ecotta("eval --model '" + dir.file(std::string(name) + ".ecotta") + "' --limit 16 --json '" +
                       dir.file(std::string(name) + ".json") + "'",
                   dir);
    ASSERT_EQ(r.status, 0) << r.err;
    r = run_ecotta("inspect --model '" + dir.file(std::string(name) + ".ecotta") + "' --json '" +
                       dir.file(std::string(name) + "-i.json") + "'",
                   dir);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto prov = json::parse(read_text(dir.file(std::string(name) + "-i.json")))["provenance"];
    EXPECT_EQ(prov["fresh_scenes"], true) << name;
    EXPECT_EQ(prov["train_samples"], 8) << name;
    EXPECT_NE(prov["command"].get<std::string>().find("--fresh-scenes"), std::string::npos) << name;
    ASSERT_TRUE(prov["epoch_log"].back().contains("data_seconds")) << name;
  }
  EXPECT_EQ(json::parse(read_text(dir.file("a.json")))["miou"], json::parse(read_text(dir.file("b.json")))["miou"]);
  // Epoch 2's training loss (on its own scenes) is the same to the last bit.
  const auto log_a = json::parse(read_text(dir.file("a-i.json")))["provenance"]["epoch_log"];
  const auto log_b = json::parse(read_text(dir.file("b-i.json")))["provenance"]["epoch_log"];
  ASSERT_EQ(log_a.size(), 2u);
  ASSERT_EQ(log_b.size(), 1u);
  EXPECT_EQ(log_b[0]["epoch"], 2);
  EXPECT_EQ(log_a[1]["loss"], log_b[0]["loss"]);
  EXPECT_NE(log_a[0]["loss"], log_a[1]["loss"]);

  // Only the segmenter trains on scenes, and they are generated, not read.
  r = run_ecotta("train --model wrn-16-2 --fresh-scenes --limit 8 --epochs 1 --out '" + dir.file("x.ecotta") + "'", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--model segmenter"), std::string::npos) << r.err;
  r = run_ecotta("train --model segmenter --fresh-scenes --images a.idx --labels b.idx --epochs 1 --out '" +
                     dir.file("x.ecotta") + "'",
                 dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("external IDX"), std::string::npos) << r.err;
}

TEST(ShippedModels, ManifestListsOneDefaultPerTaskWithMatchingChecksums) {
  const auto manifest = json::parse(read_text(repo("models/manifest.json")));
  std::map<std::string, int> defaults;
  ASSERT_TRUE(manifest.is_array());
  for (const auto& e : manifest) {
    for (const char* key : {"name", "task", "path", "default", "sha256", "command"}) ASSERT_TRUE(e.contains(key)) << key;
    if (e["default"].get<bool>()) defaults[e["task"]]++;
    TempDir dir;
    const auto r = run_ecotta("info", dir);  // keeps the runner honest about the binary
    ASSERT_EQ(r.status, 0);
    const std::string cmd = "sha256sum '" + repo("models/" + e["path"].get<std::string>()) + "' > '" + dir.file("sum") + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << e["path"];
    EXPECT_EQ(read_text(dir.file("sum")).substr(0, 64), e["sha256"].get<std::string>()) << e["name"];
  }
  for (const auto& [task, n] : defaults) EXPECT_EQ(n, 1) << task;
  EXPECT_EQ(defaults.count("classify"), 1u);
  EXPECT_EQ(defaults.count("segment"), 1u);
}

TEST(ShippedModels, EvalReproducesTheManifestFigures) {
  const auto manifest = json::parse(read_text(repo("models/manifest.json")));
  for (const auto& e : manifest) {
    TempDir dir;
    const auto r = run_ecotta("eval --model '" + repo("models/" + e["path"].get<std::string>()) + "' --json '" +
                                  dir.file("e.json") + "'",
                              dir);
    ASSERT_EQ(r.status, 0) << r.err;
    const auto got = json::parse(read_text(dir.file("e.json")));
    const bool classify = e["task"] == "classify";
    const double figure = got[classify ? "accuracy" : "miou"].get<double>();
    EXPECT_NEAR(figure, e[classify ? "clean_accuracy" : "clean_miou"].get<double>(), 5e-4) << e["name"];
    if (!got["meta_networks"].get<bool>()) {
      // The source-trained networks themselves.
      EXPECT_GE(figure, classify ? 0.93 : 0.70) << e["name"];
      continue;
    }
    // With warmed-up meta networks: within 1 point of the original network
    // under the same statistics, as warm-up measured it on the same split.
    const auto r2 = run_ecotta("inspect --model '" + repo("models/" + e["path"].get<std::string>()) + "' --json '" +
                                   dir.file("i.json") + "'",
                               dir);
    ASSERT_EQ(r2.status, 0) << r2.err;
    const auto warm = json::parse(read_text(dir.file("i.json")))["provenance"]["warmup"];
    const std::string key = std::string("clean_") + (classify ? "accuracy" : "miou") + "_before_" +
                            got["normalization"].get<std::string>();
    ASSERT_TRUE(warm.contains(key)) << e["name"] << ": " << warm.dump();
    EXPECT_GE(figure, warm[key].get<double>() - 0.01) << e["name"];
    // Loaded, the bundle scores what it scored right after warm-up (a robust
    // bundle starts from the anchor warm-up left, not the source statistics).
    const std::string after = std::string("clean_") + (classify ? "accuracy" : "miou") + "_after";
    if (!classify) {
      EXPECT_NEAR(figure, warm[after].get<double>(), 5e-4) << e["name"];
    } else {
      EXPECT_GE(figure, 0.93) << e["name"];
    }
  }
}

TEST(ShippedModels, RobustStatisticsStartFromTheSourceOnes) {
  // Robust BN (the small-batch mode for frame streams) begins at the source
  // statistics: on clean test images it must score about what source BN does.
  // (Unanchored, the shipped classifier scored 9.9%.)
  TempDir dir;
  for (const char* norm : {"source", "robust"}) {
    const auto r = run_ecotta("eval --model '" + repo("models/wrn-40-2.ecotta") + "' --norm " + norm +
                                  " --limit 1000 --json '" + dir.file(std::string(norm) + ".json") + "'",
                              dir);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  const double source = json::parse(read_text(dir.file("source.json")))["accuracy"].get<double>();
  const double robust = json::parse(read_text(dir.file("robust.json")))["accuracy"].get<double>();
  EXPECT_GT(source, 0.9);
  EXPECT_GT(robust, source - 0.03) << "robust " << robust << " source " << source;
}

TEST(ShippedModels, AnchorMakesTheClassifierWorkOneFrameAtATime) {
  // The shipped classifier's meta networks were warmed up with batch
  // statistics; frozen at the source statistics it is near chance, frozen
  // at a measured anchor it scores about its batch figure.
  TempDir dir;
  const auto r = run_ecotta("anchor --model '" + repo("models/wrn-40-2-ecotta.ecotta") + "' --out '" +
                                dir.file("anchored.ecotta") + "' --samples 1280 --eval-limit 500",
                            dir);
  ASSERT_EQ(r.status, 0) << r.err;
  double before = 0, after = 0;
  const auto at = r.out.find("one frame at a time): ");
  ASSERT_NE(at, std::string::npos) << r.out;
  ASSERT_EQ(std::sscanf(r.out.c_str() + at, "one frame at a time): %lf from the source statistics, %lf", &before, &after), 2)
      << r.out;
  EXPECT_LT(before, 0.5);
  EXPECT_GT(after, 0.9);
}

