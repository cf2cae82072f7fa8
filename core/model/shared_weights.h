#pragma once
// One read-only copy of a frozen network per process. Cameras that load the
// same model file each build their own modules (their own normalization
// statistics, meta networks, optimizer state), but the tensors no method
// changes (convolution and linear weights, frozen affine parameters) are
// the same storage for all of them: the first user's, kept alive by every
// user and freed with the last.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bundle.h"

namespace ecotta::model {

struct SharedWeights;  // the registry's entry: one network's frozen tensors

// What sharing did for one bundle.
struct WeightShare {
  std::shared_ptr<const SharedWeights> hold;  // keeps the shared tensors' entry alive; null: not shared
  int64_t shared_bytes = 0;  // bytes this bundle now reads from the shared copy
  int64_t own_bytes = 0;     // bytes of tensors it keeps to itself (what adaptation changes, and any mismatch)
  bool first = false;        // this bundle's tensors became the shared copy
};

// Makes `bundle`'s frozen tensors the process's shared copy of them: every
// floating-point parameter and buffer of bundle.model not in `adapted`
// (the method's state(), matched by storage) and equal to the registered
// tensor of that name becomes a view of it; the robust anchor likewise. The
// first bundle of a model file (its fingerprint) and device registers its
// own tensors. A bundle without a fingerprint (made in memory) is not
// shared. Thread-safe.
WeightShare share_frozen_weights(Bundle& bundle, const std::vector<torch::Tensor>& adapted);

// Any other tensors that many users hold equal copies of (e.g. the reset
// copy of a method's state, the same for every camera of one model and
// method): the first user's under `key` while any user holds it. `tensors`
// comes back as the registered ones when they are equal (dtype, shape,
// values), else as given.
struct EqualTensors {
  std::vector<torch::Tensor> tensors;
  std::shared_ptr<const void> hold;  // null: not shared
};
EqualTensors share_equal_tensors(const std::string& key, const std::vector<torch::Tensor>& tensors);

// Networks registered now (alive entries) and their bytes, for tests and
// statistics.
struct SharedWeightsRegistryStats {
  int64_t networks = 0;
  int64_t bytes = 0;
};
SharedWeightsRegistryStats shared_weights_registry_stats();

}  // namespace ecotta::model
