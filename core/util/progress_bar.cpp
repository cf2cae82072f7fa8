#include "progress_bar.h"

#include <unistd.h>

#include <algorithm>

namespace ecotta::util {

std::string format_duration(double seconds) {
  const long s = std::max(0L, static_cast<long>(seconds + 0.5));
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

ProgressBar::ProgressBar(std::string label, size_t total)
    : label_(std::move(label)), total_(std::max<size_t>(total, 1)), tty_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()), last_draw_(start_ - std::chrono::seconds(1)) {}

void ProgressBar::update(size_t done, const std::string& status) {
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  } else {
    // Without a terminal: a line every 10 %.
    const size_t percent = done * 100 / total_;
    if (percent < last_plain_percent_ + 10) return;
    last_plain_percent_ = percent - percent % 10;
  }
  last_draw_ = now;
  draw(done, status, false);
}

void ProgressBar::finish(const std::string& status) { draw(total_, status, true); }

void ProgressBar::draw(size_t done, const std::string& status, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double frac = std::min(1.0, static_cast<double>(done) / total_);
  const std::string eta = final ? "took " + format_duration(elapsed)
                                : (done > 0 ? "ETA " + format_duration(elapsed * (1 - frac) / frac) : "ETA ?");
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(frac * kWidth);
  const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
  std::fprintf(stderr, "%s%s [%s] %zu/%zu %s %s%s", tty_ ? "\r\033[K" : "", label_.c_str(), bar.c_str(), done, total_,
               status.c_str(), eta.c_str(), (final || !tty_) ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace ecotta::util
