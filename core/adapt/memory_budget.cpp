#include "memory_budget.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

namespace ecotta::adapt {
namespace {

std::string mib(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / 1048576.0);
  return text;
}

// The largest batch in [lo, hi] whose predicted bytes fit `limit`, from two
// measurements (bytes grow linearly with the batch); 0 when none fits.
int64_t largest_fitting(int64_t lo, int64_t hi, size_t part, int64_t limit, const StepMeasure& measure,
                        int64_t* predicted) {
  const int64_t at_lo = measure(lo, part);
  if (at_lo > limit) return 0;
  if (hi == lo) {
    *predicted = at_lo;
    return lo;
  }
  const int64_t at_hi = measure(hi, part);
  if (at_hi <= limit) {
    *predicted = at_hi;
    return hi;
  }
  const double per_sample = static_cast<double>(at_hi - at_lo) / static_cast<double>(hi - lo);
  const double base = static_cast<double>(at_lo) - per_sample * static_cast<double>(lo);
  int64_t batch = per_sample > 0 ? static_cast<int64_t>((static_cast<double>(limit) - base) / per_sample) : hi;
  batch = std::clamp<int64_t>(batch, lo, hi);
  *predicted = static_cast<int64_t>(base + per_sample * static_cast<double>(batch));
  return batch;
}

}  // namespace

std::string to_string(MemoryPlan::Mode mode) {
  switch (mode) {
    case MemoryPlan::Mode::Full: return "full";
    case MemoryPlan::Mode::DeeperParts: return "deeper_parts";
    case MemoryPlan::Mode::StatisticsOnly: return "statistics_only";
  }
  return "?";
}

MemoryPlan plan_memory(const BudgetRequest& r, const StepMeasure& measure) {
  if (r.cap <= 0) throw std::invalid_argument("the memory cap must be a positive number of bytes");
  MemoryPlan plan;
  plan.cap = r.cap;
  const auto limit = static_cast<int64_t>(static_cast<double>(r.cap) * r.margin);
  const int64_t lo = std::min(r.min_batch, r.wanted_batch);
  int64_t predicted = 0;
  if (const int64_t b = largest_fitting(lo, r.wanted_batch, 0, limit, measure, &predicted); b > 0) {
    plan.batch = b;
    plan.predicted_bytes = predicted;
    plan.reason = b == r.wanted_batch ? "the wanted batch fits the cap"
                                      : "fewer samples per step: " + std::to_string(b) + " of " +
                                            std::to_string(r.wanted_batch) + " fit " + mib(r.cap);
    return plan;
  }
  if (r.can_train_deeper_only)
    for (size_t part = 1; part < r.parts; ++part)
      if (const int64_t b = largest_fitting(lo, r.wanted_batch, part, limit, measure, &predicted); b > 0) {
        plan.mode = MemoryPlan::Mode::DeeperParts;
        plan.batch = b;
        plan.first_trained_part = part;
        plan.predicted_bytes = predicted;
        plan.reason = "even " + std::to_string(lo) + " samples do not fit " + mib(r.cap) +
                      " with every part training: parts " + std::to_string(part) + ".." +
                      std::to_string(r.parts - 1) + " train, at " + std::to_string(b) + " samples per step";
        return plan;
      }
  plan.mode = MemoryPlan::Mode::StatisticsOnly;
  plan.batch = r.wanted_batch;
  plan.reason = "no gradient step fits " + mib(r.cap) + ": statistics-only adaptation";
  return plan;
}

}  // namespace ecotta::adapt
