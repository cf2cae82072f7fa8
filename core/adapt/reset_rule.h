#pragma once
#include <cstdint>

namespace ecotta::adapt {

// When adaptation has degraded, go back to the starting state (SAR's and
// RDumb's lesson: long entropy minimization can collapse to a few classes
// with near-zero entropy). The rule fires when
//   - `max_dropped` updates in a row were dropped as non-finite, or
//   - the EMA (weight `momentum` on the past) of the batches' mean
//     normalized entropy H / ln C falls below `collapse_entropy`: the model
//     has become near-certain of everything, which a shifted stream does not
//     justify. The EMA starts at the first batch's value.
struct ResetRuleConfig {
  bool enabled = true;
  int max_dropped = 3;
  double collapse_entropy = 0.01;
  double momentum = 0.9;
  int64_t warmup_batches = 10;  // no collapse verdict before this many batches
};

class ResetRule {
 public:
  explicit ResetRule(ResetRuleConfig config = {}) : config_(config) {}
  // One batch seen; true when the method should reset now.
  bool observe(double normalized_entropy, bool update_dropped);
  void restart();
  double entropy_ema() const { return ema_; }
  const ResetRuleConfig& config() const { return config_; }
  void configure(const ResetRuleConfig& config) { config_ = config; restart(); }

 private:
  ResetRuleConfig config_;
  double ema_ = -1;
  int64_t batches_ = 0;
  int dropped_in_a_row_ = 0;
};

}  // namespace ecotta::adapt
