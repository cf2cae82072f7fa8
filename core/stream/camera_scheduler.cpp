#include "camera_scheduler.h"

#include <algorithm>
#include <stdexcept>

namespace ecotta::stream {

size_t choose_camera(const std::vector<CameraTurn>& ready, size_t cameras) {
  if (ready.empty()) throw std::invalid_argument("choose_camera: no camera is ready");
  const auto starving = static_cast<int64_t>(2 * std::max<size_t>(cameras, 1));
  size_t best = 0;
  bool best_starving = false;
  double best_need = 0;
  for (size_t i = 0; i < ready.size(); ++i) {
    const auto& c = ready[i];
    const bool s = c.waited >= starving;
    const double need = c.entropy + std::max(0.0, c.entropy - c.entropy_at_last_step);
    if (i == 0) {
      best_starving = s;
      best_need = need;
      continue;
    }
    const auto& b = ready[best];
    bool better;
    if (s != best_starving)
      better = s;
    else if (s)
      better = c.waited > b.waited;
    else
      better = need > best_need || (need == best_need && c.waited > b.waited);
    if (better) {
      best = i;
      best_starving = s;
      best_need = need;
    }
  }
  return best;
}

}  // namespace ecotta::stream
