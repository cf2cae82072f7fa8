// Faults a camera meets over months, on the streaming facade: a checkpoint
// that cannot be written, a process killed mid-write, a checkpoint of
// another model, non-finite data, the bundle file changing under a running
// engine. In each, the video goes on and nothing already saved is lost.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "adapt/methods.h"
#include "adapt/sample_buffer.h"
#include "adapt/snapshot.h"
#include "model/bundle.h"
#include "stream/adaptation_worker.h"
#include "stream_test_support.h"

using namespace ecotta;
using namespace ecotta::stream_test;

namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

template <typename Pred>
bool wait_for(Pred done, std::chrono::seconds limit = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool all_finite(const std::vector<torch::Tensor>& tensors) {
  for (const auto& t : tensors)
    if (!torch::isfinite(t).all().item<bool>()) return false;
  return true;
}

// Files may not grow past `bytes` while alive (a full disk as the writer
// sees it: write() fails with EFBIG). SIGXFSZ would kill the process.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit limited = saved_;
    limited.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limited);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  sighandler_t old_handler_;
};

}  // namespace

TEST(StreamFaults, ACheckpointThatCannotBeWrittenKeepsThePreviousOneAndAdaptationGoesOn) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.checkpoint_path = dir.file("state.ckpt");
  c.checkpoint_interval = 0;  // only when asked
  stream::Engine engine(c);
  run_until_steps(engine, 2);
  engine.request_checkpoint();
  ASSERT_TRUE(wait_for([&] { return engine.stats().checkpoints_written == 1; }));
  const std::string saved = read_bytes(c.checkpoint_path);
  ASSERT_GT(saved.size(), 4096u);
  {
    FileSizeLimit full(1024);
    run_until_steps(engine, engine.stats().adapt_steps + 2, 1000);
    engine.request_checkpoint();
    ASSERT_TRUE(wait_for([&] { return !engine.stats().last_error.empty(); }));
    const auto st = engine.stats();
    EXPECT_EQ(st.checkpoints_written, 1);
    EXPECT_NE(st.last_error.find("checkpoint not saved"), std::string::npos) << st.last_error;
    EXPECT_NE(st.last_error.find(c.checkpoint_path), std::string::npos) << st.last_error;
    // Frames and steps go on while the disk stays full.
    const int64_t steps = st.adapt_steps;
    run_until_steps(engine, steps + 3, 2000);
    EXPECT_GE(engine.stats().adapt_steps, steps + 3);
    Picture p(5);
    EXPECT_GE(engine.process(p.view).class_id, 0);
  }
  // The previous checkpoint is intact and no temp file was left behind.
  EXPECT_EQ(read_bytes(c.checkpoint_path), saved);
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.path()), {}), 2);  // bundle + checkpoint
  // Once there is room again, the next save works.
  engine.stop();
  EXPECT_NE(read_bytes(c.checkpoint_path), saved);
}

TEST(StreamFaults, AProcessKilledDuringCheckpointWritesLeavesALoadableCheckpoint) {
  TempDir dir;
  const std::string bundle_path = std::string(ECOTTA_MODELS_DIR) + "/wrn-40-2-ecotta.ecotta";
  const std::string state = dir.file("state.ckpt");
  auto bundle = model::load_bundle(bundle_path);
  auto reader = adapt::make_method("ecotta", bundle, {});
  std::mt19937 rng(7);
  int kills_after_a_save = 0;
  for (int round = 0; round < 8; ++round) {
    int out[2];
    ASSERT_EQ(pipe(out), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // only async-signal-safe calls before exec
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      execl(ECOTTA_CHECKPOINT_WRITER, ECOTTA_CHECKPOINT_WRITER, bundle_path.c_str(), state.c_str(), nullptr);
      _exit(127);
    }
    close(out[1]);
    // Wait for its first save, then kill it somewhere in the next ones.
    char line[64];
    const ssize_t n = read(out[0], line, sizeof line);
    ASSERT_GT(n, 0) << "the checkpoint writer died before its first save";
    std::this_thread::sleep_for(std::chrono::microseconds(std::uniform_int_distribution<int>(0, 60000)(rng)));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(out[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself";
    ++kills_after_a_save;
    EXPECT_NO_THROW(reader->load_state(state)) << "round " << round;
  }
  EXPECT_EQ(kills_after_a_save, 8);
}

TEST(StreamFaults, ACheckpointOfAnotherModelIsRefusedAndTheBundleIsUsed) {
  TempDir dir;
  // Two bundles of the same shapes, different weights.
  const auto path_a = dir.file("a.ecotta"), path_b = dir.file("b.ecotta");
  model::save_bundle(path_a, test_support::small_warm_bundle(11));
  model::save_bundle(path_b, test_support::small_warm_bundle(12));
  auto c = config_for(path_a);
  c.checkpoint_path = dir.file("state.ckpt");
  {
    stream::Engine a(c);
    run_until_steps(a, 2);
  }  // saves a's state at stop
  ASSERT_TRUE(std::filesystem::exists(c.checkpoint_path));
  c.model = path_b;
  c.adapt = false;
  stream::Engine b(c);
  const auto warnings = b.take_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("another model"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("starting from the model bundle"), std::string::npos) << warnings[0];
  // b predicts as a fresh engine on its own bundle does.
  auto fresh_config = config_for(path_b);
  fresh_config.adapt = false;
  stream::Engine fresh(fresh_config);
  Picture p(3);
  const auto got = b.process(p.view), want = fresh.process(p.view);
  ASSERT_EQ(got.top.size(), want.top.size());
  for (size_t i = 0; i < got.top.size(); ++i) EXPECT_FLOAT_EQ(got.top[i].second, want.top[i].second);
  // The same model's checkpoint still loads: the fingerprint is the weights'.
  c.model = path_a;
  stream::Engine a_again(c);
  EXPECT_TRUE(a_again.take_warnings().empty());
}

TEST(StreamFaults, NonFiniteSamplesAreRefusedByTheBuffer) {
  adapt::SampleBuffer buffer(8, 10);
  EXPECT_TRUE(buffer.offer(torch::rand({3, 8, 8}), 1));
  auto nan = torch::rand({3, 8, 8});
  nan[1][2][3] = std::numeric_limits<float>::quiet_NaN();
  auto inf = torch::rand({3, 8, 8});
  inf[0][0][0] = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(buffer.offer(nan, 2));
  EXPECT_FALSE(buffer.offer(inf, 3));
  EXPECT_EQ(buffer.size(), 1u);
}

TEST(StreamFaults, AStepThatOverflowsTheStatisticsCostsOneStepNotTheAdaptationSoFar) {
  auto bundle = test_support::small_warm_bundle();
  bundle.info.normalization = model::NormMode::Robust;  // as the engine runs it: statistics are state
  adapt::MethodOptions options;
  options.baseline_norm = model::NormMode::Robust;
  options.ecotta.lr = 0.01;
  auto trainer = adapt::make_method("ecotta", bundle, options);
  adapt::SampleBuffer buffer(8, 10);
  adapt::SnapshotPublisher publisher;
  publisher.publish(trainer->adapted_state());
  stream::WorkerConfig wc;
  wc.lower_priority = false;
  stream::AdaptationWorker worker(wc);
  stream::CameraConfig camera;
  camera.trainer = trainer.get();
  camera.buffer = &buffer;
  camera.publisher = &publisher;
  camera.plan.batch = 8;
  const auto id = worker.add_camera(camera);
  torch::manual_seed(3);
  for (int i = 0; i < 8; ++i) {
    buffer.offer(torch::rand({3, 32, 32}), i);
    worker.notify_sample(id, 0);
  }
  // The buffer is full and holds new samples: one good step.
  ASSERT_TRUE(wait_for([&] { return worker.stats(id).steps >= 1; }));
  worker.set_enabled(id, false);
  ASSERT_TRUE(wait_for([&] { return publisher.current()->version == static_cast<uint64_t>(worker.stats(id).steps) + 1; }));
  const auto good = publisher.current();
  // Finite, but its square overflows float: the batch variance is infinite.
  buffer.offer(torch::full({3, 32, 32}, 1e30f), 0);  // evicts the oldest sample (label 0)
  worker.set_enabled(id, true);
  worker.notify_sample(id, 0);
  ASSERT_TRUE(wait_for([&] { return !worker.stats(id).last_error.empty(); }));
  EXPECT_NE(worker.stats(id).last_error.find("non-finite"), std::string::npos) << worker.stats(id).last_error;
  EXPECT_EQ(publisher.current()->version, good->version);  // nothing published from that step
  // Two more samples of label 0 push the overflowing one out; steps publish again.
  for (int i = 0; i < 2; ++i) {
    buffer.offer(torch::rand({3, 32, 32}), 0);
    worker.notify_sample(id, 0);
  }
  ASSERT_TRUE(wait_for([&] { return publisher.current()->version > good->version; }));
  worker.stop();
  EXPECT_TRUE(all_finite(publisher.current()->tensors));
  EXPECT_TRUE(all_finite(trainer->adapted_state()));
  EXPECT_EQ(trainer->resets(), 0);  // the adaptation so far was kept, not reset
}

TEST(StreamFaults, TheBundleFileDeletedOrReplacedWhilePlayingBreaksNothing) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.checkpoint_path = dir.file("state.ckpt");
  stream::Engine engine(c);
  run_until_steps(engine, 2);
  std::filesystem::remove(c.model);
  run_until_steps(engine, 4, 100);
  { std::ofstream(c.model) << "not a bundle any more"; }
  run_until_steps(engine, 6, 200);
  EXPECT_GE(engine.stats().adapt_steps, 6);
  EXPECT_TRUE(engine.stats().last_error.empty()) << engine.stats().last_error;
  Picture p(9);
  EXPECT_GE(engine.process(p.view).class_id, 0);
  EXPECT_NO_THROW(engine.stop());  // the checkpoint is written from memory
  EXPECT_TRUE(std::filesystem::exists(c.checkpoint_path));
}

namespace {
// Feeds frames until `done` holds (or a generous limit passes).
template <typename Pred>
bool feed_until(stream::Engine& engine, Pred done, uint64_t first_seed) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint64_t i = first_seed; !done(); ++i) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    Picture picture(i);
    engine.process(picture.view);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

bool any_contains(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines)
    if (l.find(part) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST(StreamFaults, AMemoryCapLoweredWhilePlayingHoldsFromTheNextStep) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  c.adapt_batch = 32;
  stream::Engine engine(c);
  run_until_steps(engine, 2);
  const int64_t uncapped = engine.stats().peak_adapt_bytes;
  ASSERT_GT(uncapped, 0);
  EXPECT_EQ(engine.stats().memory_cap, 0);

  // Half of an uncapped step: the worker plans it before its next step.
  const int64_t cap = uncapped / 2;
  engine.set_memory_cap(cap);
  ASSERT_TRUE(feed_until(engine, [&] { return engine.stats().memory_cap == cap; }, 100));
  const int64_t at_change = engine.stats().adapt_steps;
  run_until_steps(engine, at_change + 5, 200);
  auto st = engine.stats();
  EXPECT_GE(st.adapt_steps, at_change + 5);
  EXPECT_GT(st.peak_adapt_bytes, 0);
  EXPECT_LE(st.peak_adapt_bytes, cap) << st.plan;
  EXPECT_FALSE(st.plan.empty());
  EXPECT_FALSE(st.adapt_paused);
  EXPECT_TRUE(any_contains(engine.take_news(), "memory-cap " + std::to_string(cap)));
  EXPECT_TRUE(engine.take_warnings().empty());

  // A cap no gradient step fits: adaptation pauses, frames go on.
  engine.set_memory_cap(1200 * 1024);
  ASSERT_TRUE(feed_until(engine, [&] { return engine.stats().adapt_paused; }, 300));
  EXPECT_TRUE(any_contains(engine.take_warnings(), "paused"));
  const int64_t paused_at = engine.stats().adapt_steps;
  for (uint64_t i = 0; i < 100; ++i) {
    Picture picture(400 + i);
    EXPECT_GE(engine.process(picture.view).class_id, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(engine.stats().adapt_steps, paused_at);

  // The cap removed: steps resume at the full batch.
  engine.set_memory_cap(0);
  ASSERT_TRUE(feed_until(engine, [&] { return !engine.stats().adapt_paused; }, 600));
  run_until_steps(engine, paused_at + 3, 700);
  st = engine.stats();
  EXPECT_GE(st.adapt_steps, paused_at + 3);
  EXPECT_EQ(st.memory_cap, 0);
  EXPECT_TRUE(st.plan.empty());
  EXPECT_GT(st.peak_adapt_bytes, cap);
  EXPECT_TRUE(st.last_error.empty()) << st.last_error;
}

TEST(StreamFaults, ANewCapWithTheModelFileReplacedPausesInsteadOfMeasuringAnotherModel) {
  TempDir dir;
  auto c = config_for(small_bundle_file(dir));
  stream::Engine engine(c);
  run_until_steps(engine, 2);
  { std::ofstream(c.model) << "not a bundle any more"; }
  engine.set_memory_cap(64 << 20);
  ASSERT_TRUE(feed_until(engine, [&] { return engine.stats().adapt_paused; }, 100));
  const auto warnings = engine.take_warnings();
  EXPECT_TRUE(any_contains(warnings, "paused")) << (warnings.empty() ? "" : warnings[0]);
  Picture p(9);
  EXPECT_GE(engine.process(p.view).class_id, 0);
  engine.set_memory_cap(0);  // needs no measurement
  ASSERT_TRUE(feed_until(engine, [&] { return !engine.stats().adapt_paused; }, 200));
  const int64_t steps = engine.stats().adapt_steps;
  run_until_steps(engine, steps + 2, 300);
  EXPECT_GE(engine.stats().adapt_steps, steps + 2);
}
