#pragma once
// What the streaming-facade tests share: pictures as frames, a small
// warmed-up bundle on disk, an engine configuration for it, and a loop that
// feeds frames until the worker has stepped.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "../engine/small_bundle.h"
#include "../support/temp_dir.h"
#include "model/bundle.h"
#include "stream/engine.h"

namespace ecotta::stream_test {

using ecotta::testing::TempDir;

// A 64x48 RGB picture whose content depends on `seed`, as a FrameView.
struct Picture {
  std::vector<uint8_t> pixels;
  stream::FrameView view;
  Picture(uint64_t seed, int width = 64, int height = 48) : pixels(static_cast<size_t>(width * height * 3)) {
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (auto& p : pixels) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      p = static_cast<uint8_t>(x);
    }
    view.format = stream::PixelFormat::RGB;
    view.width = width;
    view.height = height;
    view.planes[0] = pixels.data();
    view.strides[0] = width * 3;
  }
};

inline std::string small_bundle_file(const TempDir& dir) {
  auto bundle = test_support::small_warm_bundle();
  const auto path = dir.file("small.ecotta");
  model::save_bundle(path, bundle);
  return path;
}

inline stream::EngineConfig config_for(const std::string& model) {
  stream::EngineConfig c;
  c.model = model;
  c.adapt_batch = 8;
  c.sample_interval = 1;
  c.threads = 2;
  return c;
}

// Feeds frames until the engine has taken `steps` adaptation steps (or a
// generous time limit passes).
inline void run_until_steps(stream::Engine& engine, int64_t steps, uint64_t first_seed = 0) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (uint64_t i = first_seed; engine.stats().adapt_steps < steps && std::chrono::steady_clock::now() < deadline; ++i) {
    Picture picture(i);
    engine.process(picture.view);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace ecotta::stream_test
