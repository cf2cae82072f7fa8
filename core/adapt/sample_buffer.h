#pragma once
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include <torch/types.h>

namespace ecotta::adapt {

// Where a video's frames wait to become adaptation batches. A camera's
// frames are temporally correlated: a minute of one scene is a minute of
// one class, and adapting on such batches drives batch-statistics methods
// to collapse (Tent's error reaches 76-88% on class-correlated CIFAR10-C).
// The buffer is bounded and balanced by pseudo-label, as NOTE's
// prediction-balanced reservoir and RoTTA's category-balanced memory are:
// a new sample evicts the oldest sample of the class that holds the most
// slots (possibly its own), so a dominant class cannot crowd out the rest,
// and old scenes age out. Thread-safe: the streaming thread offers, the
// adaptation thread takes batches.
// The buffer's size when none is asked for: four steps' worth, so a step
// draws from a few recent scenes, not only the newest (the element's and
// `ecotta bench --protocol buffered`'s default). `requested` > 0 wins.
inline int64_t buffer_capacity_for(int64_t step_batch, int64_t requested = 0) {
  return requested > 0 ? requested : 4 * step_batch;
}

class SampleBuffer {
 public:
  SampleBuffer(size_t capacity, int64_t classes);

  // One preprocessed sample (C x H x W) with the label the network predicted.
  // A sample with a NaN or infinite value is refused (false): one step on
  // it would make the normalization statistics non-finite, and it would
  // stay in the buffer, spoiling every batch, until evicted.
  bool offer(const torch::Tensor& sample, int64_t pseudo_label);

  // Up to `n` samples (n x C x H x W), taken class by class in turn, newest
  // first within a class, so the batch is as balanced as the buffer allows.
  // Samples stay in the buffer (they are evicted only by newer ones).
  // Empty tensor when the buffer is empty.
  torch::Tensor batch(size_t n) const;

  size_t size() const;
  std::vector<size_t> per_class() const;  // samples held per pseudo-label
  size_t capacity() const { return capacity_; }
  void clear();

 private:
  struct Entry {
    torch::Tensor sample;
    uint64_t arrival;
  };
  size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<std::deque<Entry>> classes_;  // oldest at the front
  size_t size_ = 0;
  uint64_t arrivals_ = 0;
};

}  // namespace ecotta::adapt
