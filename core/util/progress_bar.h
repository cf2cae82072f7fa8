#pragma once
#include <chrono>
#include <cstdio>
#include <string>

namespace ecotta::util {

// One line on stderr, redrawn in place: label, bar, count, free text and
// ETA. Redraws at most every 100 ms, and writes plain lines when stderr is
// not a terminal (logs, CI) so progress stays readable there.
class ProgressBar {
 public:
  ProgressBar(std::string label, size_t total);
  void update(size_t done, const std::string& status = "");
  void finish(const std::string& status = "");

 private:
  void draw(size_t done, const std::string& status, bool final);
  std::string label_;
  size_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  size_t last_plain_percent_ = 0;
};

std::string format_duration(double seconds);  // "1h02m", "4m05s", "12s"

}  // namespace ecotta::util
