#pragma once
#include <cstdint>
#include <vector>

namespace ecotta::adapt {

// When adaptation has degraded, go back to the starting state (SAR's and
// RDumb's lesson: long entropy minimization can collapse to a few classes
// with near-zero entropy). The rule fires when
//   - `max_dropped` updates in a row were dropped as non-finite, or
//   - the EMA (weight `momentum` on the past) of the batches' mean
//     normalized entropy H / ln C falls below `collapse_entropy`: the model
//     has become near-certain of everything, which a shifted stream does not
//     justify. The EMA starts at the first batch's value.
//   - for spatial predictions (segmentation), the predictions now spread
//     over fewer than `collapse_diversity` times as many classes as when
//     adaptation (re)started. A segmenter collapses onto the commonest class
//     (background) while its mean per-pixel entropy stays well above any
//     entropy threshold, so entropy alone misses it. "How many classes" is
//     exp(entropy) of an EMA of the share of pixels predicted per class
//     (the effective number of classes); its reference is the value after
//     `warmup_batches`. Classification has no such signal: one frame is one
//     prediction, and a video's class shares change with the scene.
struct ResetRuleConfig {
  bool enabled = true;
  int max_dropped = 3;
  double collapse_entropy = 0.01;
  double momentum = 0.9;
  int64_t warmup_batches = 10;  // no collapse verdict before this many batches
  double collapse_diversity = 0.5;
};

class ResetRule {
 public:
  explicit ResetRule(ResetRuleConfig config = {}) : config_(config) {}
  // One batch seen; true when the method should reset now. `class_share`:
  // for spatial predictions, the share of the batch's pixels predicted as
  // each class (summing to 1); empty for classification.
  bool observe(double normalized_entropy, bool update_dropped, const std::vector<double>& class_share = {});
  void restart();
  double entropy_ema() const { return ema_; }
  // Effective number of predicted classes now and when adaptation
  // (re)started; 0 until known.
  double diversity() const;
  double reference_diversity() const { return reference_diversity_; }
  const ResetRuleConfig& config() const { return config_; }
  void configure(const ResetRuleConfig& config) { config_ = config; restart(); }

 private:
  ResetRuleConfig config_;
  double ema_ = -1;
  std::vector<double> share_ema_;
  double reference_diversity_ = 0;
  int64_t batches_ = 0;
  int dropped_in_a_row_ = 0;
};

}  // namespace ecotta::adapt
