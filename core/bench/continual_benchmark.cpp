#include "continual_benchmark.h"

#include <chrono>
#include <stdexcept>

#include <torch/torch.h>

#include "adapt/sample_buffer.h"
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

namespace {

// Scores predictions per (round, domain) as they come: wrong and seen
// counts (classification) or a confusion matrix (segmentation).
class Scorer {
 public:
  Scorer(model::Task task, int64_t classes, int rounds, size_t domains)
      : classify_(task == model::Task::Classify), classes_(classes), rounds_(rounds), domains_(domains),
        wrong_(rounds, std::vector<int64_t>(domains, 0)), seen_(wrong_),
        confusion_(rounds, std::vector<torch::Tensor>(domains)) {}

  void add(const BenchBatch& b, const torch::Tensor& logits) {
    const auto pred = logits.argmax(1);
    if (classify_) {
      const int64_t w = (pred != b.targets).sum().item<int64_t>();
      wrong_[b.round][b.domain] += w;
      seen_[b.round][b.domain] += b.targets.size(0);
      total_wrong_ += w;
      total_seen_ += b.targets.size(0);
    } else {
      auto& c = confusion_[b.round][b.domain];
      if (!c.defined()) c = torch::zeros({classes_ * classes_}, torch::kInt64);
      c += torch::bincount(b.targets.flatten() * classes_ + pred.flatten(), {}, classes_ * classes_);
    }
    last_ = &b;
  }

  // Error % over everything so far, or the mIoU of the current (round, domain).
  double running() const {
    if (classify_) return 100.0 * total_wrong_ / std::max<int64_t>(total_seen_, 1);
    const auto& c = confusion_[last_->round][last_->domain];
    return train::mean_iou_from_confusion(c.view({classes_, classes_}));
  }

  void finish(MethodRun& run) const {
    run.metric.assign(rounds_, std::vector<double>(domains_, 0));
    for (int r = 0; r < rounds_; ++r)
      for (size_t d = 0; d < domains_; ++d)
        run.metric[r][d] = classify_ ? 100.0 * wrong_[r][d] / std::max<int64_t>(seen_[r][d], 1)
                                     : (confusion_[r][d].defined()
                                            ? train::mean_iou_from_confusion(confusion_[r][d].view({classes_, classes_}))
                                            : 0.0);
    if (classify_) return;
    auto all = torch::zeros({classes_ * classes_}, torch::kInt64);
    for (int r = 0; r < rounds_; ++r) {
      auto round = torch::zeros({classes_ * classes_}, torch::kInt64);
      for (size_t d = 0; d < domains_; ++d)
        if (confusion_[r][d].defined()) round += confusion_[r][d];
      run.round_class_iou.push_back(train::class_ious_from_confusion(round.view({classes_, classes_})));
      all += round;
    }
    run.class_iou = train::class_ious_from_confusion(all.view({classes_, classes_}));
  }

 private:
  bool classify_;
  int64_t classes_;
  int rounds_;
  size_t domains_;
  std::vector<std::vector<int64_t>> wrong_, seen_;
  std::vector<std::vector<torch::Tensor>> confusion_;
  int64_t total_wrong_ = 0, total_seen_ = 0;
  const BenchBatch* last_ = nullptr;
};

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

// What a protocol does with one slice of a stream batch: returns the slice's
// predictions and raises `peak_step_bytes` to its steps' peak.
using SliceWork = std::function<torch::Tensor(const torch::Tensor& slice, int64_t& peak_step_bytes)>;

// The loop both protocols share: each stream batch in slices of at most
// `slice_batch`, timed, scored, reported.
MethodRun drive(adapt::Method& method, const std::vector<BenchBatch>& batches, model::Task task, int64_t classes,
                int rounds, size_t domains, int64_t slice_batch, const SliceWork& work,
                const std::function<void(size_t, double)>& progress) {
  memory::AllocationCounter::install();
  MethodRun run;
  run.method = method.name();
  run.trainable_params = method.trainable_count();
  run.persistent_bytes = method.persistent_bytes();
  Scorer scorer(task, classes, rounds, domains);
  double total_ms = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    const auto& b = batches[i];
    std::vector<torch::Tensor> outputs;
    const auto start = std::chrono::steady_clock::now();
    int64_t at = 0;
    for (const int64_t len : balanced_slices(b.input.size(0), slice_batch)) {
      outputs.push_back(work(b.input.slice(0, at, at + len), run.peak_step_bytes));
      at += len;
    }
    total_ms += ms_since(start);
    scorer.add(b, outputs.size() == 1 ? outputs[0] : torch::cat(outputs));
    if (progress) progress(i + 1, scorer.running());
  }
  scorer.finish(run);
  // Per stream batch: with a smaller step batch, all its slices together.
  run.step_ms = batches.empty() ? 0 : total_ms / static_cast<double>(batches.size());
  run.steps = method.steps();
  run.skipped_steps = method.skipped_steps();
  run.resets = method.resets();
  return run;
}

}  // namespace

MethodRun run_continual(adapt::Method& method, const std::vector<BenchBatch>& batches, model::Task task,
                        int64_t classes, int rounds, size_t domains,
                        const std::function<void(size_t, double)>& progress, int64_t step_batch) {
  const SliceWork adapt_on_slice = [&](const torch::Tensor& x, int64_t& peak) {
    memory::PeakScope scope;
    auto logits = method.forward_and_adapt(x);
    peak = std::max(peak, scope.peak_above_start());
    return logits;
  };
  return drive(method, batches, task, classes, rounds, domains, step_batch, adapt_on_slice, progress);
}

MethodRun run_buffered(adapt::Method& method, const std::vector<BenchBatch>& batches, model::Task task,
                       int64_t classes, int rounds, size_t domains, const BufferedProtocol& protocol,
                       const std::function<void(size_t, double)>& progress) {
  if (protocol.step_batch < 1) throw std::invalid_argument("buffered protocol: a step needs at least one sample");
  if (task != model::Task::Classify)
    throw std::invalid_argument("buffered protocol: classification only (the buffer balances by predicted class)");
  const int64_t capacity = adapt::buffer_capacity_for(protocol.step_batch, protocol.capacity);
  adapt::SampleBuffer buffer(static_cast<size_t>(capacity), classes);
  // Slices of one step's size: predicted with the state of every step
  // before them, offered to the buffer, then one step on the buffer.
  const SliceWork predict_then_step = [&](const torch::Tensor& x, int64_t& peak) {
    auto logits = method.predict(x);
    const auto labels = logits.argmax(1);
    for (int64_t k = 0; k < x.size(0); ++k) buffer.offer(x[k], labels[k].item<int64_t>());
    if (static_cast<int64_t>(buffer.size()) >= std::min(protocol.step_batch, capacity)) {
      const auto batch = buffer.batch(static_cast<size_t>(protocol.step_batch));
      memory::PeakScope scope;
      method.forward_and_adapt(batch);
      peak = std::max(peak, scope.peak_above_start());
    }
    return logits;
  };
  return drive(method, batches, task, classes, rounds, domains, protocol.step_batch, predict_then_step, progress);
}

}  // namespace ecotta::bench
