// Many cameras, one frozen network: engines naming one adaptation group
// share one worker and one memory cap; each keeps its own adapted state,
// sample buffer and checkpoint; the scheduler starves nobody.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>
#include <opencv2/videoio.hpp>

#include "../support/ecotta_runner.h"
#include "model/shared_weights.h"
#include "stream/camera_scheduler.h"
#include "stream_test_support.h"

using namespace ecotta;
using namespace ecotta::stream_test;

namespace {

// Steps each camera gets when `need[i]` never changes and all are always ready.
std::vector<int> simulate(const std::vector<double>& need, int turns) {
  std::vector<int> steps(need.size(), 0);
  std::vector<int64_t> last(need.size(), 0);
  for (int t = 0; t < turns; ++t) {
    std::vector<stream::CameraTurn> ready;
    for (size_t i = 0; i < need.size(); ++i) ready.push_back({need[i], need[i], t - last[i]});
    const size_t c = stream::choose_camera(ready, need.size());
    ++steps[c];
    last[c] = t + 1;
  }
  return steps;
}

// Feeds two cameras their own pictures until each has taken `steps`
// adaptation steps (or a generous time limit passes).
void run_both_until_steps(stream::Engine& a, stream::Engine& b, int64_t steps, uint64_t b_seeds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint64_t i = 0; (a.stats().adapt_steps < steps || b.stats().adapt_steps < steps) &&
                       std::chrono::steady_clock::now() < deadline;
       ++i) {
    Picture pa(i), pb(b_seeds + i);
    a.process(pa.view);
    b.process(pb.view);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace

TEST(CameraScheduler, TheNeediestCameraStepsAndNoCameraStarves) {
  // Equal need: round robin by waiting time.
  for (int s : simulate({0.3, 0.3, 0.3, 0.3}, 400)) EXPECT_EQ(s, 100);
  // One camera in fog, three in daylight: the foggy one gets most steps,
  // each other at least one in 3N (starving after 2N, then behind at
  // most N - 1 other starving cameras).
  const auto steps = simulate({0.6, 0.1, 0.1, 0.1}, 480);
  EXPECT_GT(steps[0], 200);
  for (size_t i = 1; i < steps.size(); ++i) EXPECT_GE(steps[i], 480 / 12) << i;
  // A rise in entropy since a camera's last step counts on top of the level.
  EXPECT_EQ(stream::choose_camera({{0.5, 0.5, 1}, {0.4, 0.1, 1}}, 2), 1u);
  EXPECT_EQ(stream::choose_camera({{0.5, 0.5, 1}, {0.2, 0.1, 1}}, 2), 0u);
  // The longest waiting beyond 2N goes first whatever its need.
  EXPECT_EQ(stream::choose_camera({{0.9, 0.9, 3}, {0.0, 0.0, 4}}, 2), 1u);
  EXPECT_THROW(stream::choose_camera({}, 1), std::invalid_argument);
}

TEST(AdaptationGroup, CamerasShareOneWorkerOneCapAndOneCopyOfTheWeights) {
  TempDir dir;
  const auto model = small_bundle_file(dir);
  // The cap: half of what an uncapped step of this model takes.
  int64_t uncapped = 0;
  {
    stream::Engine probe(config_for(model));
    run_until_steps(probe, 2);
    uncapped = probe.stats().peak_adapt_bytes;
  }
  ASSERT_GT(uncapped, 0);
  auto ca = config_for(model), cb = config_for(model);
  ca.adaptation_group = cb.adaptation_group = "yard";
  ca.name = "gate";
  cb.name = "dock";
  cb.memory_cap = uncapped / 2;  // set on one member: the group's
  const auto registry_before = model::shared_weights_registry_stats();
  stream::Engine a(ca), b(cb);
  // One copy of the frozen weights for both cameras (and each one's two
  // copies): the registry holds one network more, not four.
  EXPECT_EQ(model::shared_weights_registry_stats().networks, registry_before.networks + 1);
  EXPECT_GT(b.stats().shared_weight_bytes, 0);
  EXPECT_EQ(a.stats().shared_weight_bytes, b.stats().shared_weight_bytes);
  run_both_until_steps(a, b, 4, 1000);
  const auto sa = a.stats(), sb = b.stats();
  EXPECT_GE(sa.adapt_steps, 4);
  EXPECT_GE(sb.adapt_steps, 4);
  EXPECT_EQ(sa.group, "yard");
  EXPECT_EQ(sa.group_cameras, 2);
  EXPECT_GE(sb.group_steps, sa.adapt_steps + sb.adapt_steps - 1);  // one worker counts both
  // The cap holds for the group as a whole: both cameras run under it, and
  // one step at a time, so the group's peak is one step's.
  EXPECT_EQ(sa.memory_cap, uncapped / 2);
  EXPECT_EQ(sb.memory_cap, uncapped / 2);
  EXPECT_LE(sa.peak_adapt_bytes, uncapped / 2);
  EXPECT_LE(sb.peak_adapt_bytes, uncapped / 2);
  EXPECT_LE(sb.group_peak_adapt_bytes, uncapped / 2);
  EXPECT_GT(sb.group_peak_adapt_bytes, 0);
  // The first camera was told of the group's cap it did not set itself.
  const auto news = a.take_news();
  EXPECT_TRUE(std::any_of(news.begin(), news.end(), [](const std::string& n) { return n.find("memory-cap") == 0; }));
  b.stop();
  EXPECT_EQ(a.stats().group_cameras, 1);  // the group goes on without it
  // and its cap, set by b alone, goes with it (planned on the worker).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (a.stats().memory_cap != 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(a.stats().memory_cap, 0);
}

TEST(AdaptationGroup, AnAdaptingCameraDoesNotMoveAnotherCamerasPredictions) {
  TempDir dir;
  const auto model = small_bundle_file(dir);
  // The reference: a camera that does not adapt, alone.
  auto quiet = config_for(model);
  quiet.adapt = false;
  std::vector<int> alone;
  std::vector<float> alone_conf;
  {
    stream::Engine e(quiet);
    for (uint64_t i = 0; i < 60; ++i) {
      Picture p(5000 + i);
      const auto r = e.process(p.view);
      alone.push_back(r.class_id);
      alone_conf.push_back(r.confidence);
    }
  }
  // The same camera in a group with one that adapts hard on other scenes.
  quiet.adaptation_group = "pair";
  auto busy = config_for(model);
  busy.adaptation_group = "pair";
  busy.learning_rate = 0.05;
  stream::Engine q(quiet), noisy(busy);
  run_until_steps(noisy, 10);
  ASSERT_GE(noisy.stats().adapt_steps, 10);
  for (uint64_t i = 0; i < 60; ++i) {
    Picture p(5000 + i);
    const auto r = q.process(p.view);
    EXPECT_EQ(r.class_id, alone[i]);
    EXPECT_EQ(r.confidence, alone_conf[i]);  // bit for bit
    Picture other(9000 + i);
    noisy.process(other.view);
  }
  EXPECT_EQ(q.stats().adapt_steps, 0);
}

TEST(AdaptationGroup, EachCameraRestoresItsOwnCheckpoint) {
  TempDir dir;
  const auto model = small_bundle_file(dir);
  auto ca = config_for(model), cb = config_for(model);
  ca.adaptation_group = cb.adaptation_group = "ckpt";
  ca.checkpoint_path = dir.file("a.ckpt");
  cb.checkpoint_path = dir.file("b.ckpt");
  cb.learning_rate = 0.05;  // the two cameras' states part ways
  Picture probe(424242);
  stream::Prediction a_end, b_end;
  {
    stream::Engine a(ca), b(cb);
    run_both_until_steps(a, b, 3, 7000);
    a.set_adapt(false);
    b.set_adapt(false);
    // Both stop (each saves its own state), the later one's predictions
    // taken after the first left the group.
    a.stop();
    a_end = a.process(probe.view);
    b.stop();
    b_end = b.process(probe.view);
  }
  ASSERT_TRUE(std::filesystem::exists(ca.checkpoint_path));
  ASSERT_TRUE(std::filesystem::exists(cb.checkpoint_path));
  // Restarted, in the same group again, each predicts as it did at stop:
  // its own state came back, not the other's.
  ca.adapt = cb.adapt = false;
  stream::Engine a(ca), b(cb);
  EXPECT_TRUE(a.take_warnings().empty());
  const auto ra = a.process(probe.view), rb = b.process(probe.view);
  EXPECT_EQ(ra.top, a_end.top);
  EXPECT_EQ(rb.top, b_end.top);
  EXPECT_NE(ra.top, rb.top);
}

namespace {

// An `ecotta stream` video decoded into memory, with each frame's class.
struct Video {
  std::vector<cv::Mat> frames;  // BGR
  std::vector<int> labels;
};

Video render(const TempDir& dir, const std::string& name, const std::string& schedule, int seed) {
  const auto out = dir.file(name + ".avi"), truth = dir.file(name + ".jsonl");
  const auto r = ecotta::testing::run_ecotta("stream --task classify --duration 200 --fps 3 --width 192 --height 144 "
                                             "--item-seconds 0.34 --schedule " + schedule + " --seed " +
                                                 std::to_string(seed) + " --out " + out + " --truth " + truth,
                                             dir);
  EXPECT_EQ(r.status, 0) << r.err;
  Video v;
  cv::VideoCapture capture(out);
  for (cv::Mat frame; capture.read(frame);) v.frames.push_back(frame.clone());
  std::ifstream in(truth);
  for (std::string line; std::getline(in, line);) v.labels.push_back(nlohmann::json::parse(line).at("label").get<int>());
  EXPECT_EQ(v.frames.size(), v.labels.size());
  return v;
}

stream::FrameView view_of(const cv::Mat& bgr) {
  stream::FrameView v;
  v.format = stream::PixelFormat::BGR;
  v.width = bgr.cols;
  v.height = bgr.rows;
  v.planes[0] = bgr.data;
  v.strides[0] = static_cast<int>(bgr.step);
  return v;
}

}  // namespace

// The acceptance test of the issue: the shipped classifier, a camera in
// daylight and one in dense fog, both adapting in one group. The daylight
// camera's accuracy stays within 1 point of the same camera adapting alone.
// Its adaptation stops after the same number of steps in both runs (the
// group serves the foggy camera first, and more or fewer steps on clean
// frames would move its accuracy by themselves); the foggy one adapts to
// the end.
TEST(AdaptationGroup, ADaylightCamerasAccuracyIsItsOwnBesideAFoggyCamera) {
  const TempDir dir;
  const auto day = render(dir, "day", "clean:200", 21);
  const auto fog = render(dir, "fog", "fog@5:200", 22);
  ASSERT_EQ(day.frames.size(), 600u);
  stream::EngineConfig c;
  c.model = std::string(ECOTTA_MODELS_DIR) + "/wrn-40-2-ecotta.ecotta";
  c.sample_interval = 1;  // every frame a sample, small steps: many steps in a short test
  c.adapt_batch = 8;
  c.threads = 2;
  constexpr int64_t kSteps = 8;
  const auto accuracy = [&](stream::Engine& camera, stream::Engine* beside) {
    int right = 0;
    bool adapting = true;
    for (size_t i = 0; i < day.frames.size(); ++i) {
      right += camera.process(view_of(day.frames[i])).class_id == day.labels[i];
      if (beside) beside->process(view_of(fog.frames[i]));
      const int64_t steps = camera.stats().adapt_steps;
      if (adapting && steps >= kSteps) {
        camera.set_adapt(false);
        adapting = false;
      }
      // The frames wait for the steps, not the other way round: on a busy
      // machine (tests run side by side) the steps would otherwise fall
      // behind the video, and fewer than kSteps in one run make the two
      // runs incomparable. Due: kSteps by frame 320 of 600.
      const bool behind = adapting && steps < std::min<int64_t>(kSteps, static_cast<int64_t>(i) / 40);
      std::this_thread::sleep_for(std::chrono::milliseconds(behind ? 40 : 8));
    }
    return static_cast<double>(right) / static_cast<double>(day.frames.size());
  };
  double alone = 0, grouped = 0;
  int64_t alone_steps = 0;
  {
    stream::Engine camera(c);
    alone = accuracy(camera, nullptr);
    alone_steps = camera.stats().adapt_steps;
  }
  c.adaptation_group = "street";
  stream::Engine camera(c), foggy(c);
  grouped = accuracy(camera, &foggy);
  EXPECT_GE(alone_steps, kSteps);
  EXPECT_GE(camera.stats().adapt_steps, kSteps);
  EXPECT_GT(foggy.stats().adapt_steps, kSteps);
  EXPECT_NEAR(grouped, alone, 0.01) << "alone " << alone << ", beside the foggy camera " << grouped;
  std::printf("daylight camera: %.4f alone, %.4f beside a foggy one (steps %lld / %lld of the group's %lld)\n", alone,
              grouped, static_cast<long long>(camera.stats().adapt_steps),
              static_cast<long long>(foggy.stats().adapt_steps), static_cast<long long>(camera.stats().group_steps));
}
