#pragma once
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "adapt/method.h"
#include "model/bundle.h"

namespace ecotta::bench {

// One batch of the continual stream, ready for the network.
struct BenchBatch {
  int round = 0;
  size_t domain = 0;     // index into the stream's domain list
  torch::Tensor input;   // N x 3 x H x W, normalized
  torch::Tensor targets; // N labels, or N x H x W label maps
};

struct MethodRun {
  std::string method;
  // metric[round][domain]: error % (classification) or mIoU fraction (segmentation)
  std::vector<std::vector<double>> metric;
  // Segmentation: each class's IoU per round over all its domains, and over
  // the whole run (NaN for a class neither true nor predicted); empty for
  // classification.
  std::vector<std::vector<double>> round_class_iou;
  std::vector<double> class_iou;
  int64_t peak_step_bytes = 0;   // max over steps of the counting allocator's peak above the step's start
  int64_t persistent_bytes = 0;  // what the method keeps between steps
  double step_ms = 0;            // mean wall time of forward_and_adapt per batch
  int64_t trainable_params = 0;
  int64_t analytic_bytes = 0;    // filled by the caller (analytic_memory.h)
  int64_t steps = 0, skipped_steps = 0, resets = 0;
  int64_t peak_adapt_bytes() const { return peak_step_bytes + persistent_bytes; }
};

// Peak adaptation bytes of one step on `x`: the counting allocator's peak
// during forward_and_adapt above its level before it, plus the method's
// persistent bytes (the definition every figure uses; docs/benchmarks.md).
int64_t step_adapt_bytes(adapt::Method& method, const torch::Tensor& x);

// Sizes of the fewest slices of at most `max_slice` that cover `n`, as equal
// as can be: 64 at 28 is 22, 21, 21, not 28, 28, 8 (a tail of 8 would give
// BN batch statistics from 8 samples). max_slice <= 0 or >= n: one slice.
std::vector<int64_t> balanced_slices(int64_t n, int64_t max_slice);

// Runs `method` over the batches in order, scoring every prediction before
// the next batch is seen. Peak adaptation bytes, as defined for every method
// (docs/benchmarks.md): the counting allocator's peak during a step above its
// level just before the step, plus the method's persistent state. Installs
// the counting allocator if it is not yet. `progress` is called after every
// batch with the running mean metric. With `step_batch` > 0 each stream
// batch is fed to the method in slices of at most that many samples (a
// memory cap's smaller adaptation batch), as equal as can be
// (balanced_slices).
MethodRun run_continual(adapt::Method& method, const std::vector<BenchBatch>& batches, model::Task task,
                        int64_t classes, int rounds, size_t domains,
                        const std::function<void(size_t done, double running)>& progress = {},
                        int64_t step_batch = 0);

// The element's protocol (core/stream/engine.cpp): predictions never come
// from a step on the samples themselves, and steps train on batches drawn
// class by class from a pseudo-label-balanced SampleBuffer, not on the
// stream's batches, which on a camera (or a class-correlated order) hold one
// class. Give the method Robust BN: predict() keeps batch-mode layers on the
// batch's own statistics.
struct BufferedProtocol {
  int64_t step_batch = 16;  // samples per step (the element's adapt-batch-size)
  int64_t capacity = 0;     // samples the buffer holds; 0: 4 x step_batch (the element's)
};

// Each stream batch in slices of step_batch: the slice is predicted
// (Method::predict) and scored, its samples offered to the buffer with their
// predicted labels, then one forward_and_adapt on step_batch samples of the
// buffer once it holds that many. Classification only. Memory and step time
// as run_continual's (step time: predictions and steps of one stream batch).
MethodRun run_buffered(adapt::Method& method, const std::vector<BenchBatch>& batches, model::Task task,
                       int64_t classes, int rounds, size_t domains, const BufferedProtocol& protocol,
                       const std::function<void(size_t done, double running)>& progress = {});

}  // namespace ecotta::bench
