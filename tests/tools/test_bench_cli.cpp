// `ecotta bench` run as a user would: the JSON contract other tools rely on,
// the memory ordering it must show, plots, and clear errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "../support/ecotta_runner.h"
#include "../support/temp_dir.h"

using ecotta::testing::read_text;
using ecotta::testing::run_ecotta;
using ecotta::testing::TempDir;
using nlohmann::json;

namespace {

std::string repo(const std::string& rel) { return std::string(ECOTTA_SOURCE_DIR) + "/" + rel; }
const std::string kModel = " --model '" + repo("models/wrn-40-2-ecotta.ecotta") + "'";

}  // namespace

TEST(BenchCli, QuickRunWritesTheContractAndEcoTtaNeedsFarLessMemoryThanTent) {
  TempDir dir;
  const auto r = run_ecotta("bench --task classify" + kModel + " --quick --json '" + dir.file("b.json") +
                                "' --plots '" + dir.file("plots") + "'",
                            dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = json::parse(read_text(dir.file("b.json")));
  EXPECT_EQ(j["task"], "classify");
  ASSERT_EQ(j["config"]["domains"].size(), 3u);
  const std::vector<std::string> methods = {"source", "norm", "tent", "eata", "cotta", "rotta", "ecotta"};
  ASSERT_EQ(j["methods"].size(), methods.size());
  for (const auto& name : methods) {
    const auto& m = j["methods"][name];
    for (const char* key : {"mean_error", "rounds", "peak_adapt_bytes", "analytic_adapt_bytes", "step_ms", "trainable_params"})
      EXPECT_TRUE(m.contains(key)) << name << " lacks " << key;
    ASSERT_EQ(m["rounds"].size(), 1u);
    double sum = 0;
    for (const auto& [domain, value] : m["rounds"][0]["per_domain"].items()) {
      EXPECT_GE(value.get<double>(), 0.0);
      EXPECT_LE(value.get<double>(), 100.0);
      sum += value.get<double>();
    }
    EXPECT_NEAR(m["mean_error"].get<double>(), sum / 3, 1e-6) << name;
    EXPECT_GT(m["peak_adapt_bytes"].get<int64_t>(), 0) << name;
  }
  EXPECT_EQ(j["methods"]["source"]["trainable_params"], 0);
  EXPECT_EQ(j["methods"]["norm"]["trainable_params"], 0);
  // The point of EcoTTA: the backward keeps little, while Tent and CoTTA keep
  // the whole network's activations.
  const auto peak = [&](const char* m) { return j["methods"][m]["peak_adapt_bytes"].get<double>(); };
  EXPECT_LT(peak("ecotta"), 0.43 * peak("tent"));
  EXPECT_LT(peak("ecotta"), peak("cotta") * 0.3);
  EXPECT_GT(peak("cotta"), peak("tent"));
  // Measured within 1.5x of the analytic estimate of its design.
  EXPECT_LT(peak("ecotta"), 1.5 * j["methods"]["ecotta"]["analytic_adapt_bytes"].get<double>());
  // Adaptation must help on noise: BN adaptation beats the source model.
  EXPECT_LT(j["methods"]["norm"]["mean_error"].get<double>(), j["methods"]["source"]["mean_error"].get<double>());
  for (const char* png : {"b-per-domain.png", "b-per-round.png", "b-memory.png"})
    EXPECT_GT(std::filesystem::file_size(dir.file("plots") + "/" + png), 1000u) << png;
  EXPECT_NE(r.out.find("ecotta"), std::string::npos) << "the table names the methods";

  // Half of EcoTTA's uncapped peak: the plan fits, the measured peak stays
  // under the cap, and the stream is still adapted (gradient steps taken).
  const auto cap = static_cast<int64_t>(peak("ecotta") / 2);
  const auto capped = run_ecotta("bench" + kModel + " --quick --methods ecotta --memory-cap " + std::to_string(cap) +
                                     " --json '" + dir.file("c.json") + "'",
                                 dir);
  ASSERT_EQ(capped.status, 0) << capped.err;
  const auto c = json::parse(read_text(dir.file("c.json")))["methods"]["ecotta"];
  EXPECT_TRUE(c["within_cap"].get<bool>()) << c.dump();
  EXPECT_LE(c["peak_adapt_bytes"].get<int64_t>(), cap);
  EXPECT_NE(c["memory_plan"]["mode"], "statistics_only") << c.dump();
  EXPECT_GT(c["trainable_params"].get<int64_t>(), 0);
  EXPECT_LT(c["memory_plan"]["batch"].get<int64_t>(), 64);
}

TEST(BenchCli, BadRequestsAreClearErrors) {
  TempDir dir;
  auto r = run_ecotta("bench" + kModel + " --quick --methods tent,tnet", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("tnet"), std::string::npos) << r.err;
  r = run_ecotta("bench --task segment" + kModel + " --quick --methods source", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("classify"), std::string::npos) << r.err;
  r = run_ecotta("bench" + kModel + " --quick --methods source --domains 'fog,file:" + dir.file("missing") + "'", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  r = run_ecotta("bench" + kModel + " --quick --methods ecotta --memory-cap lots", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--memory-cap 'lots'"), std::string::npos) << r.err;
  r = run_ecotta("bench" + kModel + " --quick --methods source --domains fgo", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("fgo"), std::string::npos) << r.err;
  r = run_ecotta("bench" + kModel + " --quick --methods ecotta --ecotta-keep-every 1,2", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("keep-every lists 2 parts, the network has 4"), std::string::npos) << r.err;
  r = run_ecotta("bench" + kModel + " --quick --methods source --preset papers", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("unknown preset 'papers' (expected validated or paper)"), std::string::npos) << r.err;
  r = run_ecotta("bench" + kModel + " --quick --methods ecotta,rotta --memory-cap 64M", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("rotta trains on its own memory bank"), std::string::npos) << r.err;
  r = run_ecotta("bench" + kModel + " --quick --methods ecotta --ecotta-norm robus", dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--ecotta-norm"), std::string::npos) << r.err;
}

TEST(BenchCli, DefaultsAreTheValidatedRatesAndThePaperPresetIsThePapers) {
  // What a user gets without --*-lr is the table of method_defaults.h for
  // the task; --preset paper gives the papers'; a rate given by hand wins.
  TempDir dir;
  const auto rates = [&](const std::string& args) {
    const auto r = run_ecotta("bench" + kModel + " --quick --methods source --domains fog --per-domain 8" + args +
                                  " --json '" + dir.file("p.json") + "'",
                              dir);
    EXPECT_EQ(r.status, 0) << r.err;
    const auto c = json::parse(read_text(dir.file("p.json")))["config"];
    EXPECT_EQ(c["ecotta_norm"], "bundle");
    return std::vector<double>{c["tent_lr"], c["eata_lr"], c["cotta_lr"], c["rotta_lr"], c["ecotta_lr"]};
  };
  EXPECT_EQ(rates(""), (std::vector<double>{3e-3, 3e-3, 1e-3, 3e-3, 0.2}));
  EXPECT_EQ(rates(" --preset paper"), (std::vector<double>{1e-3, 1e-3, 1e-3, 1e-3, 5e-3}));
  EXPECT_EQ(rates(" --preset paper --tent-lr 0.01"), (std::vector<double>{1e-2, 1e-3, 1e-3, 1e-3, 5e-3}));
}

TEST(BenchCli, TheBufferedProtocolAdaptsAsTheElementDoes) {
  // Robust statistics, the frames row of the defaults, steps of 16 from a
  // buffer of 64: with 3 domains of 64 in batches of 64, each batch is four
  // slices of 16 and every slice is followed by one step.
  TempDir dir;
  const auto r = run_ecotta("bench" + kModel + " --quick --methods norm,ecotta --order correlated --protocol buffered "
                            "--json '" + dir.file("b.json") + "'",
                            dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = json::parse(read_text(dir.file("b.json")));
  const auto& c = j["config"];
  EXPECT_EQ(c["protocol"], "buffered");
  EXPECT_EQ(c["adapt_batch"], 16);
  EXPECT_EQ(c["buffer_capacity"], 64);
  EXPECT_EQ(c["baseline_norm"], "robust");
  EXPECT_EQ(c["ecotta_norm"], "robust");
  EXPECT_EQ(c["ecotta_lr"].get<double>(), 1e-3);
  EXPECT_EQ(j["methods"]["ecotta"]["steps"].get<int64_t>() + j["methods"]["ecotta"]["skipped_steps"].get<int64_t>(), 12);
  EXPECT_GT(j["methods"]["ecotta"]["peak_adapt_bytes"].get<int64_t>(), 0);

  auto bad = run_ecotta("bench" + kModel + " --quick --methods norm --protocol buffered --baseline-norm batch", dir);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--baseline-norm must be robust"), std::string::npos) << bad.err;
  bad = run_ecotta("bench" + kModel + " --quick --methods ecotta --protocol buffered --memory-cap 64M", dir);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("leave --memory-cap out"), std::string::npos) << bad.err;
  bad = run_ecotta("bench" + kModel + " --quick --methods norm --protocol buffer", dir);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--protocol"), std::string::npos) << bad.err;
}

TEST(BenchCli, AFileDomainIsReadFromAnExternalIdxPair) {
  TempDir dir;
  auto r = run_ecotta("corrupt --split test --corruption fog --severity 5 --limit 64 --out '" + dir.file("fog") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("bench" + kModel + " --methods source --per-domain 64 --domains 'fog,file:" + dir.file("fog") +
                     "' --json '" + dir.file("f.json") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto per = json::parse(read_text(dir.file("f.json")))["methods"]["source"]["rounds"][0]["per_domain"];
  EXPECT_EQ(per.size(), 2u);
  EXPECT_TRUE(per.contains("file:" + dir.file("fog")));
}

TEST(BenchCli, SegmentationReportsMeanIouPerDomain) {
  // A segmenter trained for one epoch on a few scenes: enough to check the
  // segmentation path and its contract, not its accuracy.
  TempDir dir;
  auto r = run_ecotta("scenes --split train --count 32 --seed 1 --out '" + dir.file("train") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("scenes --split test --count 64 --seed 2 --out '" + dir.file("test") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const std::string data = " --images '" + dir.file("train-images.idx") + "' --labels '" + dir.file("train-labels.idx") +
                           "' --test-images '" + dir.file("test-images.idx") + "' --test-labels '" +
                           dir.file("test-labels.idx") + "'";
  r = run_ecotta("train --model segmenter" + data + " --epochs 1 --batch 8 --out '" + dir.file("seg.ecotta") + "'", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("warmup --model '" + dir.file("seg.ecotta") + "'" + data + " --fraction 1 --epochs 1 --batch 8 --out '" +
                     dir.file("seg-warm.ecotta") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  r = run_ecotta("bench --task segment --model '" + dir.file("seg-warm.ecotta") +
                     "' --methods source,norm,tent,ecotta --domains brightness,fog --per-domain 8 --rounds 2 --batch 4"
                     " --test-images '" + dir.file("test-images.idx") + "' --test-labels '" + dir.file("test-labels.idx") +
                     "' --json '" + dir.file("s.json") + "'",
                 dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const auto j = json::parse(read_text(dir.file("s.json")));
  EXPECT_EQ(j["task"], "segment");
  for (const char* name : {"source", "norm", "tent", "ecotta"}) {
    const auto& m = j["methods"][name];
    ASSERT_TRUE(m.contains("mean_miou")) << name;
    EXPECT_FALSE(m.contains("mean_error")) << name;
    ASSERT_EQ(m["rounds"].size(), 2u) << name;
    for (const auto& round : m["rounds"]) {
      ASSERT_EQ(round["per_domain"].size(), 2u);
      for (const auto& [domain, value] : round["per_domain"].items()) {
        EXPECT_GE(value.get<double>(), 0.0);
        EXPECT_LE(value.get<double>(), 1.0);
      }
      // Each class's IoU in the round, by label (null: neither true nor predicted).
      ASSERT_EQ(round["class_iou"].size(), 11u) << name;
      EXPECT_TRUE(round["class_iou"].contains("background")) << name;
    }
    ASSERT_EQ(m["class_iou"].size(), 11u) << name;
    // Background fills most of every scene: it is always true, so never null.
    EXPECT_TRUE(m["class_iou"]["background"].is_number()) << name;
    for (const auto& [label, iou] : m["class_iou"].items())
      if (!iou.is_null()) {
        EXPECT_GE(iou.get<double>(), 0.0) << label;
        EXPECT_LE(iou.get<double>(), 1.0) << label;
      }
  }
  EXPECT_LT(j["methods"]["ecotta"]["peak_adapt_bytes"].get<double>(), j["methods"]["tent"]["peak_adapt_bytes"].get<double>());
}

TEST(BenchCli, PlotScriptTabulatesAndRefusesBrokenFiles) {
  // scripts/plot_bench.py on a committed sample of the JSON contract.
  TempDir dir;
  const std::string python = "/usr/bin/python3 '" + repo("scripts/plot_bench.py") + "' ";
  const std::string out = dir.file("table.txt"), err = dir.file("err.txt");
  int raw = std::system((python + "'" + repo("tests/tools/fixtures/bench_sample.json") + "' --table-only >'" + out +
                         "' 2>'" + err + "'")
                            .c_str());
  ASSERT_EQ(WEXITSTATUS(raw), 0) << read_text(err);
  const auto table = read_text(out);
  for (const char* row : {"| source |", "| tent |", "| ecotta |"}) EXPECT_NE(table.find(row), std::string::npos) << table;
  {
    std::ofstream broken(dir.file("broken.json"));
    broken << R"({"task": "classify", "methods": {"tent": {"mean_error": 1}}})";
  }
  raw = std::system((python + "'" + dir.file("broken.json") + "' --table-only >'" + out + "' 2>'" + err + "'").c_str());
  EXPECT_EQ(WEXITSTATUS(raw), 2);
  EXPECT_NE(read_text(err).find("rounds"), std::string::npos) << read_text(err);
}
