#include "continual_benchmark.h"

#include <chrono>

#include <torch/torch.h>

#include "memory/counting_allocator.h"
#include "train/evaluate.h"

namespace ecotta::bench {

int64_t step_adapt_bytes(adapt::Method& method, const torch::Tensor& x) {
  memory::AllocationCounter::install();
  memory::PeakScope scope;
  method.forward_and_adapt(x);
  return scope.peak_above_start() + method.persistent_bytes();
}

std::vector<int64_t> balanced_slices(int64_t n, int64_t max_slice) {
  if (n <= 0) return {};
  if (max_slice <= 0 || max_slice >= n) return {n};
  const int64_t pieces = (n + max_slice - 1) / max_slice;
  std::vector<int64_t> sizes;
  for (int64_t p = 0; p < pieces; ++p) sizes.push_back(n / pieces + (p < n % pieces ? 1 : 0));
  return sizes;
}

MethodRun run_continual(adapt::Method& method, const std::vector<BenchBatch>& batches, model::Task task,
                        int64_t classes, int rounds, size_t domains,
                        const std::function<void(size_t, double)>& progress, int64_t step_batch) {
  memory::AllocationCounter::install();
  MethodRun run;
  run.method = method.name();
  run.trainable_params = method.trainable_count();
  run.persistent_bytes = method.persistent_bytes();
  const bool classify = task == model::Task::Classify;
  // Classification: wrong and seen counts; segmentation: a confusion matrix,
  // per (round, domain).
  std::vector<std::vector<int64_t>> wrong(rounds, std::vector<int64_t>(domains, 0)), seen = wrong;
  std::vector<std::vector<torch::Tensor>> confusion(rounds, std::vector<torch::Tensor>(domains));
  double total_ms = 0;
  int64_t total_wrong = 0, total_seen = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    const auto& b = batches[i];
    const int64_t n = b.input.size(0);
    std::vector<torch::Tensor> outputs;
    const auto start = std::chrono::steady_clock::now();
    int64_t at = 0;
    for (const int64_t len : balanced_slices(n, step_batch)) {
      memory::PeakScope scope;
      outputs.push_back(method.forward_and_adapt(b.input.slice(0, at, at + len)));
      run.peak_step_bytes = std::max(run.peak_step_bytes, scope.peak_above_start());
      at += len;
    }
    total_ms += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    const auto logits = outputs.size() == 1 ? outputs[0] : torch::cat(outputs);
    const auto pred = logits.argmax(1);
    if (classify) {
      const int64_t w = (pred != b.targets).sum().item<int64_t>();
      wrong[b.round][b.domain] += w;
      seen[b.round][b.domain] += b.targets.size(0);
      total_wrong += w;
      total_seen += b.targets.size(0);
    } else {
      auto& c = confusion[b.round][b.domain];
      if (!c.defined()) c = torch::zeros({classes * classes}, torch::kInt64);
      c += torch::bincount(b.targets.flatten() * classes + pred.flatten(), {}, classes * classes);
    }
    if (progress)
      progress(i + 1, classify ? 100.0 * total_wrong / std::max<int64_t>(total_seen, 1)
                               : train::mean_iou_from_confusion(confusion[b.round][b.domain].view({classes, classes})));
  }
  run.metric.assign(rounds, std::vector<double>(domains, 0));
  for (int r = 0; r < rounds; ++r)
    for (size_t d = 0; d < domains; ++d)
      run.metric[r][d] = classify ? 100.0 * wrong[r][d] / std::max<int64_t>(seen[r][d], 1)
                                  : (confusion[r][d].defined()
                                         ? train::mean_iou_from_confusion(confusion[r][d].view({classes, classes}))
                                         : 0.0);
  if (!classify) {
    auto all = torch::zeros({classes * classes}, torch::kInt64);
    for (int r = 0; r < rounds; ++r) {
      auto round = torch::zeros({classes * classes}, torch::kInt64);
      for (size_t d = 0; d < domains; ++d)
        if (confusion[r][d].defined()) round += confusion[r][d];
      run.round_class_iou.push_back(train::class_ious_from_confusion(round.view({classes, classes})));
      all += round;
    }
    run.class_iou = train::class_ious_from_confusion(all.view({classes, classes}));
  }
  // Per stream batch: with a smaller step batch, all its slices together.
  run.step_ms = batches.empty() ? 0 : total_ms / static_cast<double>(batches.size());
  run.steps = method.steps();
  run.skipped_steps = method.skipped_steps();
  run.resets = method.resets();
  return run;
}

}  // namespace ecotta::bench
