// Runs the built `ecotta` binary (path in $ECOTTA_EXE) as a user would and
// checks what `corrupt`, `preview` and `stream` write with readers of its own:
// IDX headers parsed here, Fashion-MNIST labels read with zlib, video read
// back with cv::VideoCapture (and GStreamer when gst-launch-1.0 is present).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <zlib.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "../support/ecotta_runner.h"
#include "../support/temp_dir.h"
#include "data/fashion_mnist.h"

namespace {

using ecotta::testing::TempDir;

using ecotta::testing::ecotta_exe;
using ecotta::testing::read_text;
using ecotta::testing::Result;
using ecotta::testing::run_ecotta;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// A minimal IDX reader: magic 0 0 0x08 ndims, big-endian uint32 dims, payload.
struct Idx {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;
};

Idx parse_idx(const std::vector<uint8_t>& bytes) {
  Idx idx;
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
    throw std::runtime_error("not a uint8 IDX file");
  const size_t ndims = bytes[3];
  size_t pos = 4;
  size_t count = 1;
  for (size_t d = 0; d < ndims; ++d, pos += 4) {
    if (pos + 4 > bytes.size()) throw std::runtime_error("IDX header cut short");
    const uint32_t v = (uint32_t(bytes[pos]) << 24) | (uint32_t(bytes[pos + 1]) << 16) | (uint32_t(bytes[pos + 2]) << 8) |
                       uint32_t(bytes[pos + 3]);
    idx.dims.push_back(v);
    count *= v;
  }
  if (bytes.size() - pos != count) throw std::runtime_error("IDX payload length does not match its dims");
  idx.data.assign(bytes.begin() + static_cast<long>(pos), bytes.end());
  return idx;
}

Idx read_idx_file(const std::string& path) {
  const std::string text = read_text(path);
  return parse_idx(std::vector<uint8_t>(text.begin(), text.end()));
}

Idx read_gz_idx(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + path);
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) bytes.insert(bytes.end(), buf, buf + n);
  gzclose(f);
  return parse_idx(bytes);
}

const std::vector<std::string> kAllCorruptions = {
    "gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur",      "glass_blur",
    "motion_blur",    "zoom_blur",  "snow",          "frost",             "fog",
    "brightness",     "contrast",   "elastic_transform", "pixelate",      "jpeg_compression",
    "speckle_noise",  "gaussian_blur", "saturate",   "spatter",           "night"};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ecotta_exe().empty()) GTEST_SKIP() << "ECOTTA_EXE is not set (run through meson test)";
  }
  TempDir dir;
};

bool have_command(const std::string& name) {
  return std::system(("command -v " + name + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_F(Cli, CorruptListPrintsEveryCorruptionAndNothingElse) {
  const Result r = run_ecotta("corrupt --list", dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines_of(r.out), kAllCorruptions);
}

TEST_F(Cli, CorruptWritesStandardIdxWithTheTestLabels) {
  const Result r = run_ecotta("corrupt --split test --corruption fog --severity 5 --seed 3 --limit 50 --out " + dir.file("fog"), dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("50"), std::string::npos) << r.err;  // the summary line
  const Idx images = read_idx_file(dir.file("fog-images.idx"));
  const Idx labels = read_idx_file(dir.file("fog-labels.idx"));
  EXPECT_EQ(images.dims, (std::vector<uint32_t>{50, 32, 32, 3}));
  EXPECT_EQ(labels.dims, (std::vector<uint32_t>{50}));
  const Idx truth = read_gz_idx(ecotta::data::default_data_dir() + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_GE(truth.data.size(), 50u);
  EXPECT_EQ(labels.data, std::vector<uint8_t>(truth.data.begin(), truth.data.begin() + 50));
}

TEST_F(Cli, CleanIsTheModelInputAndFogDiffersFromIt) {
  ASSERT_EQ(run_ecotta("corrupt --split test --corruption clean --limit 20 --out " + dir.file("clean"), dir).status, 0);
  ASSERT_EQ(run_ecotta("corrupt --split test --corruption fog --severity 3 --limit 20 --out " + dir.file("fog"), dir).status, 0);
  const Idx clean = read_idx_file(dir.file("clean-images.idx"));
  const Idx fog = read_idx_file(dir.file("fog-images.idx"));
  const auto inputs = ecotta::data::to_model_input(
      ecotta::data::load_fashion_mnist(ecotta::data::default_data_dir(), ecotta::data::Split::Test, 20));
  EXPECT_EQ(clean.data, inputs.pixels);
  ASSERT_EQ(fog.data.size(), clean.data.size());
  double diff = 0;
  for (size_t i = 0; i < fog.data.size(); ++i) diff += std::abs(int(fog.data[i]) - int(clean.data[i]));
  EXPECT_GT(diff / fog.data.size(), 10.0);  // fog lifts the black padding and background a lot
}

TEST_F(Cli, CorruptionOfASampleDoesNotDependOnLimit) {
  ASSERT_EQ(run_ecotta("corrupt --split test --corruption gaussian_noise --severity 2 --seed 7 --limit 30 --out " +
                       dir.file("a"), dir).status, 0);
  ASSERT_EQ(run_ecotta("corrupt --split test --corruption gaussian_noise --severity 2 --seed 7 --limit 10 --out " +
                       dir.file("b"), dir).status, 0);
  ASSERT_EQ(run_ecotta("corrupt --split test --corruption gaussian_noise --severity 2 --seed 8 --limit 10 --out " +
                       dir.file("c"), dir).status, 0);
  const Idx a = read_idx_file(dir.file("a-images.idx")), b = read_idx_file(dir.file("b-images.idx")),
            c = read_idx_file(dir.file("c-images.idx"));
  EXPECT_EQ(std::vector<uint8_t>(a.data.begin(), a.data.begin() + static_cast<long>(b.data.size())), b.data);
  EXPECT_NE(b.data, c.data);  // another seed, other noise
}

TEST_F(Cli, CorruptRefusesBadNamesSeveritiesAndMissingOptions) {
  Result r = run_ecotta("corrupt --split test --corruption fgo --severity 3 --out " + dir.file("x"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("unknown corruption 'fgo'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("zoom_blur"), std::string::npos) << r.err;  // lists the valid names
  r = run_ecotta("corrupt --split test --corruption fog --severity 6 --out " + dir.file("x"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("1..5"), std::string::npos) << r.err;
  r = run_ecotta("corrupt --split test --corruption fog --out " + dir.file("x"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("--severity"), std::string::npos) << r.err;
  r = run_ecotta("corrupt --split validation --corruption fog --severity 1 --out " + dir.file("x"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("train or test"), std::string::npos) << r.err;
  EXPECT_FALSE(std::ifstream(dir.file("x-images.idx")).good());
}

TEST_F(Cli, PreviewWritesASheetOfTheExpectedSize) {
  const Result r = run_ecotta("preview --corruptions fog,night,pixelate --samples 2 --scale 2 --out " + dir.file("p.png"), dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const cv::Mat sheet = cv::imread(dir.file("p.png"), cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(sheet.empty());
  EXPECT_EQ(sheet.type(), CV_8UC3);
  // 4 rows (clean + 3) of 64-pixel tiles, 5 severity columns of two tiles each,
  // plus row names, headers and gaps.
  const int tile = 32 * 2, cells = 5 * 2 * tile;
  EXPECT_GE(sheet.cols, cells);
  EXPECT_LE(sheet.cols, cells + 400);
  EXPECT_GE(sheet.rows, 4 * tile);
  EXPECT_LE(sheet.rows, 4 * (tile + 30) + 150);
  // A taller sheet for more rows: one more condition adds one row.
  ASSERT_EQ(run_ecotta("preview --corruptions fog,night,pixelate,snow --samples 2 --scale 2 --out " + dir.file("q.png"), dir)
                .status,
            0);
  const cv::Mat taller = cv::imread(dir.file("q.png"));
  EXPECT_GT(taller.rows - sheet.rows, tile);
  EXPECT_LT(taller.rows - sheet.rows, tile + 40);
}

TEST_F(Cli, PreviewOfSegmentationScenes) {
  const Result r = run_ecotta("preview --task segment --samples 1 --scale 1 --out " + dir.file("s.png"), dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const cv::Mat sheet = cv::imread(dir.file("s.png"));
  ASSERT_FALSE(sheet.empty());
  EXPECT_GE(sheet.cols, 6 * 64);  // five severities and the label-map column
  EXPECT_GE(sheet.rows, 6 * 64);  // clean + brightness, fog, frost, snow, night
  EXPECT_NE(run_ecotta("preview --corruptions fog,mist --out " + dir.file("t.png"), dir).status, 0);
}

TEST_F(Cli, StreamWritesADecodableVideoAndATruthLinePerFrame) {
  const std::string video = dir.file("v.avi"), truth = dir.file("v.jsonl");
  const Result r = run_ecotta("stream --task classify --duration 2 --schedule clean:0.5,fog@1-3:1.5 --seed 1 --out " + video +
                           " --truth " + truth,
                       dir);
  ASSERT_EQ(r.status, 0) << r.err;

  cv::VideoCapture capture(video);
  ASSERT_TRUE(capture.isOpened());
  int frames = 0;
  cv::Mat frame;
  while (capture.read(frame)) {
    EXPECT_EQ(frame.cols, 640);
    EXPECT_EQ(frame.rows, 480);
    ++frames;
  }
  EXPECT_EQ(frames, 60);
  EXPECT_NEAR(capture.get(cv::CAP_PROP_FPS), 30.0, 1e-6);

  const auto lines = lines_of(read_text(truth));
  ASSERT_EQ(lines.size(), 60u);
  std::set<int> labels;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto j = nlohmann::json::parse(lines[i]);
    EXPECT_EQ(j.at("frame").get<size_t>(), i);
    EXPECT_NEAR(j.at("pts").get<double>(), i / 30.0, 1e-9);
    // clean for 0.5 s (frames 0-14), then fog 1, 2, 3 for 0.5 s each.
    const std::string expected = i < 15 ? "clean" : "fog";
    const int severity = i < 15 ? 0 : 1 + static_cast<int>((i - 15) / 15);
    EXPECT_EQ(j.at("condition").get<std::string>(), expected) << "frame " << i;
    EXPECT_EQ(j.at("severity").get<int>(), severity) << "frame " << i;
    const int label = j.at("label").get<int>();
    ASSERT_GE(label, 0);
    ASSERT_LT(label, 10);
    EXPECT_EQ(j.at("class").get<std::string>(), ecotta::data::fashion_mnist_classes()[static_cast<size_t>(label)]);
    labels.insert(label);
  }
  EXPECT_EQ(labels.size(), 1u);  // one item for the first 2 s

  if (have_command("gst-launch-1.0")) {
    const std::string gst = "gst-launch-1.0 -q filesrc location='" + video +
                            "' ! avidemux ! jpegdec ! fakesink >/dev/null 2>&1";
    EXPECT_EQ(std::system(gst.c_str()), 0) << "GStreamer could not decode " << video;
  }
}

TEST_F(Cli, StreamItemSecondsSetsHowLongEachItemStays) {
  const std::string truth = dir.file("i.jsonl");
  // 3 s at 10 fps, a new item every 0.5 s: labels may change only at frames 5, 10, 15, 20, 25.
  ASSERT_EQ(run_ecotta("stream --duration 3 --fps 10 --item-seconds 0.5 --schedule clean:3 --seed 2 --out " +
                           dir.file("i.avi") + " --truth " + truth, dir).status, 0);
  const auto lines = lines_of(read_text(truth));
  ASSERT_EQ(lines.size(), 30u);
  std::set<int> labels;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int label = nlohmann::json::parse(lines[i]).at("label").get<int>();
    labels.insert(label);
    if (i % 5 != 0) {
      EXPECT_EQ(label, nlohmann::json::parse(lines[i - 1]).at("label").get<int>()) << "frame " << i;
    }
  }
  EXPECT_GE(labels.size(), 3u);  // 6 items drawn from 10 classes
  const Result bad = run_ecotta("stream --duration 1 --item-seconds 0 --out " + dir.file("b.avi") + " --truth " +
                                dir.file("b.jsonl"), dir);
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--item-seconds"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::ifstream(dir.file("b.avi")).good());
}

TEST_F(Cli, SegmentStreamIsSquareByDefault) {
  const std::string video = dir.file("q.avi");
  ASSERT_EQ(run_ecotta("stream --task segment --duration 0.2 --fps 10 --schedule clean:1 --out " + video +
                           " --truth " + dir.file("q.jsonl"), dir).status, 0);
  cv::VideoCapture capture(video);
  ASSERT_TRUE(capture.isOpened());
  EXPECT_EQ(capture.get(cv::CAP_PROP_FRAME_WIDTH), 480);  // the segmenter sees the frame squashed
  EXPECT_EQ(capture.get(cv::CAP_PROP_FRAME_HEIGHT), 480);
}

TEST_F(Cli, SegmentStreamWritesLabelMapsAndRepeatsTheSchedule) {
  const std::string video = dir.file("s.avi"), truth = dir.file("s.jsonl");
  const Result r = run_ecotta("stream --task segment --duration 1 --width 320 --height 240 --fps 20 "
                       "--schedule clean:0.25,night@2:0.25 --out " + video + " --truth " + truth,
                       dir);
  ASSERT_EQ(r.status, 0) << r.err;
  cv::VideoCapture capture(video);
  ASSERT_TRUE(capture.isOpened());
  EXPECT_EQ(capture.get(cv::CAP_PROP_FRAME_WIDTH), 320);
  EXPECT_EQ(capture.get(cv::CAP_PROP_FRAME_HEIGHT), 240);
  const auto lines = lines_of(read_text(truth));
  ASSERT_EQ(lines.size(), 20u);
  int labelled = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto j = nlohmann::json::parse(lines[i]);
    const bool night = (i % 10) >= 5;  // 5 frames clean, 5 night, repeated
    EXPECT_EQ(j.at("condition").get<std::string>(), night ? "night" : "clean") << "frame " << i;
    EXPECT_EQ(j.at("severity").get<int>(), night ? 2 : 0) << "frame " << i;
    const std::string png = j.at("labels_png").get<std::string>();
    EXPECT_NE(png.find("s_labels/frame_"), std::string::npos) << png;
    const cv::Mat map = cv::imread(png, cv::IMREAD_UNCHANGED);
    ASSERT_FALSE(map.empty()) << png;
    EXPECT_EQ(map.type(), CV_8UC1);
    EXPECT_EQ(map.size(), cv::Size(320, 240));
    double max_label;
    cv::minMaxLoc(map, nullptr, &max_label);
    EXPECT_LE(max_label, 10);
    labelled += max_label > 0;
  }
  EXPECT_GT(labelled, 15);  // items are on screen in (nearly) every frame
}

TEST_F(Cli, StreamRefusesOtherContainersAndBadSchedules) {
  Result r = run_ecotta("stream --duration 1 --out " + dir.file("v.mkv") + " --truth " + dir.file("t.jsonl"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find(".avi"), std::string::npos) << r.err;
  r = run_ecotta("stream --duration 1 --schedule fog@7:2 --out " + dir.file("v.avi") + " --truth " + dir.file("t.jsonl"), dir);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("fog@7:2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1..5"), std::string::npos) << r.err;
  EXPECT_FALSE(std::ifstream(dir.file("v.avi")).good());
}
