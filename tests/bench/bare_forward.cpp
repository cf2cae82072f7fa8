#include "bare_forward.h"

#include <chrono>

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include "model/adaptive_batch_norm.h"
#include "model/bundle.h"

namespace ecotta::bench {

double bare_forward_ms(const std::string& bundle_path, int runs) {
  at::set_num_threads(1);  // what the element gives inference
  auto bundle = model::load_bundle(bundle_path);
  model::apply_meta_norm_mode(bundle, model::NormMode::Robust);
  torch::NoGradGuard no_grad;
  model::FreezeRobustStats frozen;
  const auto x = torch::randn({1, 3, bundle.info.input.height, bundle.info.input.width})
                     .contiguous(torch::MemoryFormat::ChannelsLast);
  const auto forward = [&] {
    return bundle.meta ? model::forward_with_meta(*bundle.model, *bundle.meta, x) : bundle.model->forward(x);
  };
  for (int i = 0; i < 10; ++i) forward();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) forward();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() / runs;
}

}  // namespace ecotta::bench
