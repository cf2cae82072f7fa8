#include "reset_rule.h"

namespace ecotta::adapt {

bool ResetRule::observe(double normalized_entropy, bool update_dropped) {
  if (!config_.enabled) return false;
  dropped_in_a_row_ = update_dropped ? dropped_in_a_row_ + 1 : 0;
  if (dropped_in_a_row_ >= config_.max_dropped) return true;
  if (normalized_entropy == normalized_entropy) {  // NaN says nothing
    ema_ = ema_ < 0 ? normalized_entropy : config_.momentum * ema_ + (1 - config_.momentum) * normalized_entropy;
    ++batches_;
  }
  return batches_ >= config_.warmup_batches && ema_ >= 0 && ema_ < config_.collapse_entropy;
}

void ResetRule::restart() {
  ema_ = -1;
  batches_ = 0;
  dropped_in_a_row_ = 0;
}

}  // namespace ecotta::adapt
