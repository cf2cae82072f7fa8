#pragma once
#include <cstdint>
#include <functional>
#include <string>

namespace ecotta::adapt {

// How a method adapts within a byte budget.
struct MemoryPlan {
  enum class Mode {
    Full,            // every trainable part, at `batch` samples per step
    DeeperParts,     // only parts from `first_trained_part` on train (EcoTTA)
    StatisticsOnly,  // no gradient at all: BN statistics adaptation
  };
  Mode mode = Mode::Full;
  int64_t batch = 0;               // samples per adaptation step
  size_t first_trained_part = 0;   // DeeperParts only
  int64_t predicted_bytes = 0;     // peak adaptation bytes the plan expects
  int64_t cap = 0;
  std::string reason;              // one line a person can read
};
std::string to_string(MemoryPlan::Mode mode);  // "full" | "deeper_parts" | "statistics_only"

// Measures the peak adaptation bytes of one step at `batch` samples with
// parts from `first_trained_part` on trained (the caller runs a real step on
// a calibration batch, on a throwaway copy of the method).
using StepMeasure = std::function<int64_t(int64_t batch, size_t first_trained_part)>;

struct BudgetRequest {
  int64_t cap = 0;            // bytes
  int64_t wanted_batch = 64;  // the batch the method would use without a cap
  int64_t min_batch = 8;      // below this, batch-statistics BN collapses
  size_t parts = 1;           // K; DeeperParts is tried only when > 1 and allowed
  bool can_train_deeper_only = false;
  double margin = 0.9;        // plan to this fraction of the cap: measurement varies a little
};

// The degradation order: (1) the wanted batch if it fits; (2) fewer samples
// per step, down to min_batch, from a linear fit of two calibration steps;
// (3) training only the deeper parts (their activations are smallest), the
// shallowest part dropped first; (4) statistics only. Throws
// std::invalid_argument for a cap that is not positive.
MemoryPlan plan_memory(const BudgetRequest& request, const StepMeasure& measure);

}  // namespace ecotta::adapt
