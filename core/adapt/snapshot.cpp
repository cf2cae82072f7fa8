#include "snapshot.h"

#include <stdexcept>

#include <torch/torch.h>

#include "model_utils.h"

namespace ecotta::adapt {

uint64_t SnapshotPublisher::publish(const std::vector<torch::Tensor>& state) {
  auto next = std::make_shared<Snapshot>();
  {
    torch::NoGradGuard no_grad;
    for (const auto& t : state) next->tensors.push_back(t.detach().clone());
  }
  // The copy is made outside the lock: readers only ever wait for the swap.
  std::lock_guard<std::mutex> lock(mutex_);
  next->version = ++version_;
  current_ = std::move(next);
  return version_;
}

std::shared_ptr<const Snapshot> SnapshotPublisher::current() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return current_;
}

namespace {
// Checked before anything changes: a refused snapshot leaves the reader's
// tensors as they were (copy_ would also broadcast a mismatched shape).
void check_fits(const Snapshot& snapshot, const std::vector<torch::Tensor>& into) {
  if (snapshot.tensors.size() != into.size())
    throw std::invalid_argument("snapshot holds " + std::to_string(snapshot.tensors.size()) + " tensors, the model " +
                                std::to_string(into.size()));
  for (size_t i = 0; i < into.size(); ++i)
    if (snapshot.tensors[i].sizes() != into[i].sizes() || snapshot.tensors[i].scalar_type() != into[i].scalar_type())
      throw std::invalid_argument("snapshot tensor " + std::to_string(i) + " has shape " +
                                  c10::str(snapshot.tensors[i].sizes()) + ", the model's " + c10::str(into[i].sizes()));
}
}  // namespace

bool apply_snapshot(const Snapshot& snapshot, const std::vector<torch::Tensor>& into, uint64_t* seen) {
  if (seen && snapshot.version <= *seen) return false;
  check_fits(snapshot, into);
  copy_tensors(into, snapshot.tensors);
  if (seen) *seen = snapshot.version;
  return true;
}

bool adopt_snapshot(const Snapshot& snapshot, const std::vector<torch::Tensor>& into, uint64_t* seen) {
  if (seen && snapshot.version <= *seen) return false;
  check_fits(snapshot, into);
  for (size_t i = 0; i < into.size(); ++i) {
    auto t = into[i];
    t.set_data(snapshot.tensors[i]);
  }
  if (seen) *seen = snapshot.version;
  return true;
}

}  // namespace ecotta::adapt
