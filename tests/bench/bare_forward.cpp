#include "bare_forward.h"

#include <chrono>
#include <thread>
#include <vector>

#include <ATen/Parallel.h>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "model/adaptive_batch_norm.h"
#include "model/bundle.h"
#include "model/input_geometry.h"
#include "percentile.h"

namespace ecotta::bench {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

BareForward bare_forward(const std::string& bundle_path, int width, int height, double fps, int runs) {
  at::set_num_threads(1);  // what the element gives inference
  auto bundle = model::load_bundle(bundle_path);
  model::apply_meta_norm_mode(bundle, model::NormMode::Robust);
  torch::NoGradGuard no_grad;
  model::FreezeRobustStats frozen;
  const auto& in = bundle.info.input;
  const auto mean = torch::tensor(in.mean).view({1, 3, 1, 1});
  const auto std = torch::tensor(in.std).view({1, 3, 1, 1});

  cv::Mat frame(height, width, CV_8UC3);
  cv::randu(frame, 0, 256);
  // The view, clipped to the frame (a letterbox view is shrunk as a squash: close enough for timing).
  const auto v = model::model_view(width, height, static_cast<int>(in.width), static_cast<int>(in.height), in.geometry);
  const cv::Rect view = cv::Rect(static_cast<int>(v.x), static_cast<int>(v.y), static_cast<int>(v.width),
                                 static_cast<int>(v.height)) & cv::Rect(0, 0, width, height);
  const auto one_frame = [&] {
    cv::Mat small;
    cv::resize(frame(view), small, cv::Size(static_cast<int>(in.width), static_cast<int>(in.height)), 0, 0,
               cv::INTER_AREA);
    auto x = torch::from_blob(small.data, {1, in.height, in.width, 3}, torch::kUInt8).permute({0, 3, 1, 2});
    x = x.to(torch::kFloat).div_(255.0).sub_(mean).div_(std);
    const auto logits = bundle.meta ? model::forward_with_meta(*bundle.model, *bundle.meta, x) : bundle.model->forward(x);
    return logits.argmax(1);
  };
  const auto timed = [&](bool paced) {
    std::vector<double> ms;
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / fps));
    auto next = Clock::now();
    for (int i = 0; i < runs; ++i) {
      if (paced) {
        next += period;
        std::this_thread::sleep_until(next);
      }
      const auto start = Clock::now();
      one_frame();
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    return ms;
  };
  for (int i = 0; i < 10; ++i) one_frame();
  BareForward r;
  const auto unpaced = timed(false);
  r.unpaced_p50_ms = percentile(unpaced, 0.5);
  const auto paced = timed(true);
  r.paced_p50_ms = percentile(paced, 0.5);
  r.paced_p99_ms = percentile(paced, 0.99);
  return r;
}

}  // namespace ecotta::bench
