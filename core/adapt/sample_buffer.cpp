#include "sample_buffer.h"

#include <stdexcept>
#include <string>

#include <torch/torch.h>

namespace ecotta::adapt {

SampleBuffer::SampleBuffer(size_t capacity, int64_t classes) : capacity_(capacity) {
  if (capacity == 0) throw std::invalid_argument("a sample buffer needs room for at least one sample");
  if (classes < 1) throw std::invalid_argument("a sample buffer needs at least one class");
  classes_.resize(static_cast<size_t>(classes));
}

bool SampleBuffer::offer(const torch::Tensor& sample, int64_t pseudo_label) {
  if (pseudo_label < 0 || pseudo_label >= static_cast<int64_t>(classes_.size()))
    throw std::invalid_argument("pseudo-label " + std::to_string(pseudo_label) + " outside 0.." +
                                std::to_string(classes_.size() - 1));
  if (sample.is_floating_point() && !torch::isfinite(sample).all().item<bool>()) return false;
  auto copy = sample.detach().clone();  // the caller's frame memory is not ours to keep
  std::lock_guard<std::mutex> lock(mutex_);
  if (size_ == capacity_) {
    // The class holding the most slots gives up its oldest sample; ties go
    // to the class whose oldest sample is oldest.
    size_t victim = 0;
    for (size_t c = 1; c < classes_.size(); ++c) {
      const auto& a = classes_[c];
      const auto& b = classes_[victim];
      if (a.size() > b.size() || (a.size() == b.size() && !a.empty() && a.front().arrival < b.front().arrival))
        victim = c;
    }
    classes_[victim].pop_front();
    --size_;
  }
  classes_[static_cast<size_t>(pseudo_label)].push_back({std::move(copy), arrivals_++});
  ++size_;
  return true;
}

torch::Tensor SampleBuffer::batch(size_t n) const {
  std::vector<torch::Tensor> picked;
  {
    // Only the picking holds the lock, not the copy: the adaptation worker
    // calls this at a low priority, and a streaming thread offering a
    // sample must not wait while it is preempted. Samples never change once
    // offered, so holding them is enough.
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<size_t> taken(classes_.size(), 0);
    while (picked.size() < n && picked.size() < size_) {
      for (size_t c = 0; c < classes_.size() && picked.size() < n; ++c)
        if (taken[c] < classes_[c].size()) picked.push_back(classes_[c][classes_[c].size() - 1 - taken[c]++].sample);
    }
  }
  if (picked.empty()) return {};
  return torch::stack(picked);
}

size_t SampleBuffer::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return size_;
}

std::vector<size_t> SampleBuffer::per_class() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<size_t> out;
  for (const auto& c : classes_) out.push_back(c.size());
  return out;
}

void SampleBuffer::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& c : classes_) c.clear();
  size_ = 0;
}

}  // namespace ecotta::adapt
