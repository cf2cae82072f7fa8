#pragma once
#include <cstdint>
#include <string>

#include <torch/types.h>

#include "memory_budget.h"
#include "methods.h"

namespace ecotta::adapt {

// Plans `method` within `cap` bytes per adaptation step (plan_memory's
// degradation order) by real calibration steps on slices of `calibration`
// (its first dimension is the wanted batch), each on a fresh copy of the
// bundle at `bundle_path`, measured for the calling thread alone
// (memory::MemoryOwner), so work on other threads does not count.
MemoryPlan plan_method_memory(const std::string& bundle_path, const std::string& method, const MethodOptions& options,
                              int64_t cap, const torch::Tensor& calibration, int64_t min_batch = 8);

// Peak bytes, above what was allocated before, of one forward_and_adapt of
// `x`, counted for the calling thread alone.
int64_t measure_step_bytes(Method& method, const torch::Tensor& x);

}  // namespace ecotta::adapt
