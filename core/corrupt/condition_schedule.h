#pragma once
#include <string>
#include <vector>

namespace ecotta::corrupt {

// When which condition applies over time: the one grammar shared by
// `ecotta stream` and the `ecottacorrupt` GStreamer element.
//
// A spec is a comma list of `condition[@severity | @from-to]:seconds`:
//   clean:3          three seconds without corruption
//   fog:2            fog at severity 5 (the default) for two seconds
//   night@4:3        night at severity 4 for three seconds
//   fog@1-5:5        fog stepping through severities 1, 2, 3, 4, 5, one
//                    fifth of the 5 s each (5-1 steps down)
// Seconds may be fractional and must be positive; the list repeats when the
// video is longer than the schedule. Conditions are the corruption names of
// `ecotta corrupt --list` or "clean" (which takes no severity).
struct ScheduleEntry {
  std::string condition;
  int from_severity = 0;  // 0 for clean
  int to_severity = 0;    // == from_severity unless a ramp
  double seconds = 0;
};

// The condition shown at one moment.
struct Condition {
  std::string name;
  int severity = 0;  // 0 for clean
};

class ConditionSchedule {
 public:
  // Throws std::invalid_argument naming the bad entry, what was expected and,
  // for an unknown condition, every known name.
  static ConditionSchedule parse(const std::string& spec);

  // The condition at time t >= 0 (seconds), the schedule repeated. A ramp of
  // n severities gives each an equal share of its entry's time.
  Condition at(double t) const;
  double period() const { return period_; }
  const std::vector<ScheduleEntry>& entries() const { return entries_; }

 private:
  std::vector<ScheduleEntry> entries_;
  double period_ = 0;
};

// The schedule `ecotta stream` and `ecottacorrupt` use when none is given.
extern const char* const kDefaultSchedule;

}  // namespace ecotta::corrupt
