#include "reset_rule.h"

#include <cmath>

namespace ecotta::adapt {

double ResetRule::diversity() const {
  if (share_ema_.empty()) return 0;
  double h = 0;
  for (double p : share_ema_)
    if (p > 0) h -= p * std::log(p);
  return std::exp(h);
}

bool ResetRule::observe(double normalized_entropy, bool update_dropped, const std::vector<double>& class_share) {
  if (!config_.enabled) return false;
  dropped_in_a_row_ = update_dropped ? dropped_in_a_row_ + 1 : 0;
  if (dropped_in_a_row_ >= config_.max_dropped) return true;
  if (normalized_entropy == normalized_entropy) {  // NaN says nothing
    ema_ = ema_ < 0 ? normalized_entropy : config_.momentum * ema_ + (1 - config_.momentum) * normalized_entropy;
    ++batches_;
    if (!class_share.empty()) {
      if (share_ema_.size() != class_share.size()) {
        share_ema_ = class_share;
      } else {
        for (size_t c = 0; c < share_ema_.size(); ++c)
          share_ema_[c] = config_.momentum * share_ema_[c] + (1 - config_.momentum) * class_share[c];
      }
      if (batches_ == config_.warmup_batches) reference_diversity_ = diversity();
    }
  }
  if (batches_ < config_.warmup_batches || ema_ < 0) return false;
  if (ema_ < config_.collapse_entropy) return true;
  return reference_diversity_ > 0 && diversity() < config_.collapse_diversity * reference_diversity_;
}

void ResetRule::restart() {
  ema_ = -1;
  share_ema_.clear();
  reference_diversity_ = 0;
  batches_ = 0;
  dropped_in_a_row_ = 0;
}

}  // namespace ecotta::adapt
