#include "memory_planner.h"

#include <stdexcept>

#include "memory/counting_allocator.h"
#include "method_registry.h"
#include "model/bundle.h"

namespace ecotta::adapt {

int64_t measure_step_bytes(Method& method, const torch::Tensor& x) {
  memory::MemoryOwner owner;
  memory::OwnerScope scope(owner);
  method.forward_and_adapt(x);
  return owner.peak_bytes();
}

MemoryPlan plan_method_memory(const std::string& bundle_path, const std::string& method, const MethodOptions& options,
                              int64_t cap, const torch::Tensor& calibration, int64_t min_batch) {
  if (!method_entry(method).step_follows_batch)
    throw std::invalid_argument(method + " trains on its own memory bank whatever the batch, so a memory cap cannot "
                                "shrink its steps; run it without a cap, or choose ecotta, tent, eata or cotta");
  const auto probe = model::load_bundle(bundle_path);
  const auto measure = [&](int64_t batch, size_t part) {
    auto trial_bundle = model::load_bundle(bundle_path);
    auto trial_options = options;
    trial_options.ecotta.first_trained_part = part;
    auto trial = make_method(method, trial_bundle, trial_options);
    return measure_step_bytes(*trial, calibration.slice(0, 0, batch));
  };
  BudgetRequest request;
  request.cap = cap;
  request.wanted_batch = calibration.size(0);
  request.min_batch = std::min(min_batch, request.wanted_batch);
  request.parts = probe.meta ? probe.meta->size() : 1;
  request.can_train_deeper_only = method_entry(method).can_train_deeper_only;
  return plan_memory(request, measure);
}

}  // namespace ecotta::adapt
