#pragma once
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/types.h>

namespace ecotta::adapt {

// An immutable copy of the adapted state (meta parameters and normalization
// statistics) after one good step. Inference reads the latest snapshot while
// the adaptation side trains its own copy, so inference never waits for
// backpropagation and never sees a half-updated model.
struct Snapshot {
  uint64_t version = 0;  // 1, 2, ... in publication order
  std::vector<torch::Tensor> tensors;
};

class SnapshotPublisher {
 public:
  // Copies `state` (detached clones) and makes it the current snapshot.
  uint64_t publish(const std::vector<torch::Tensor>& state);
  // The current snapshot (null before the first publish). Never blocks on
  // a publish in progress for longer than a pointer swap.
  std::shared_ptr<const Snapshot> current() const;

 private:
  mutable std::mutex mutex_;  // guards only the pointer swap
  std::shared_ptr<const Snapshot> current_;
  uint64_t version_ = 0;
};

// Copies a snapshot into the reader's own tensors (same count and shapes)
// when it is newer than `*seen`; returns whether it copied. A snapshot of
// another count or shape throws std::invalid_argument and copies nothing.
bool apply_snapshot(const Snapshot& snapshot, const std::vector<torch::Tensor>& into, uint64_t* seen);

// Like apply_snapshot, without a copy: the reader's tensors take the
// snapshot's storage (set_data), which the reader must then only read (a
// prediction reads its state). The snapshot stays alive as long as they use
// it; the reader's own copy is freed.
bool adopt_snapshot(const Snapshot& snapshot, const std::vector<torch::Tensor>& into, uint64_t* seen);

}  // namespace ecotta::adapt
