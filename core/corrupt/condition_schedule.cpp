#include "condition_schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "corruption.h"

namespace ecotta::corrupt {

const char* const kDefaultSchedule = "clean:4,fog@1-5:6,night@5:4,snow@5:4";

namespace {

std::string trim(const std::string& s) {
  const size_t first = s.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

std::string known_conditions() {
  std::string out = "clean";
  for (const std::string& name : all_corruptions()) out += ", " + name;
  return out;
}

std::string syntax_hint() {
  return "expected a comma list of condition[@severity|@from-to]:seconds, e.g. 'clean:3,fog@1-5:5,night@4:3'";
}

[[noreturn]] void bad_entry(const std::string& entry, const std::string& why) {
  throw std::invalid_argument("schedule entry '" + entry + "': " + why + " (" + syntax_hint() + ")");
}

int parse_severity(const std::string& text, const std::string& entry) {
  size_t used = 0;
  int value = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    bad_entry(entry, "severity '" + text + "' is not a number");
  }
  if (used != text.size()) bad_entry(entry, "severity '" + text + "' is not a whole number");
  if (value < 1 || value > 5) bad_entry(entry, "severity " + std::to_string(value) + " is out of range 1..5");
  return value;
}

double parse_seconds(const std::string& text, const std::string& entry) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    bad_entry(entry, "duration '" + text + "' is not a number of seconds");
  }
  if (used != text.size() || !std::isfinite(value)) bad_entry(entry, "duration '" + text + "' is not a number of seconds");
  if (value <= 0) bad_entry(entry, "duration must be positive, got " + text);
  return value;
}

ScheduleEntry parse_entry(const std::string& entry) {
  const size_t colon = entry.rfind(':');
  if (colon == std::string::npos) bad_entry(entry, "no ':seconds'");
  ScheduleEntry e;
  e.seconds = parse_seconds(trim(entry.substr(colon + 1)), entry);
  const std::string head = trim(entry.substr(0, colon));
  const size_t at = head.find('@');
  e.condition = trim(head.substr(0, at));
  if (e.condition.empty()) bad_entry(entry, "no condition name");
  if (!is_corruption(e.condition))
    bad_entry(entry, "unknown condition '" + e.condition + "' (known: " + known_conditions() + ")");
  if (e.condition == "clean") {
    if (at != std::string::npos) bad_entry(entry, "clean takes no severity");
    return e;
  }
  e.from_severity = e.to_severity = 5;
  if (at != std::string::npos) {
    const std::string sev = trim(head.substr(at + 1));
    const size_t dash = sev.find('-');
    if (dash == std::string::npos) {
      e.from_severity = e.to_severity = parse_severity(sev, entry);
    } else {
      e.from_severity = parse_severity(trim(sev.substr(0, dash)), entry);
      e.to_severity = parse_severity(trim(sev.substr(dash + 1)), entry);
    }
  }
  return e;
}

}  // namespace

ConditionSchedule ConditionSchedule::parse(const std::string& spec) {
  ConditionSchedule schedule;
  size_t start = 0;
  while (true) {
    const size_t comma = spec.find(',', start);
    const std::string entry = trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (entry.empty()) throw std::invalid_argument("empty entry in schedule '" + spec + "' (" + syntax_hint() + ")");
    schedule.entries_.push_back(parse_entry(entry));
    schedule.period_ += schedule.entries_.back().seconds;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return schedule;
}

Condition ConditionSchedule::at(double t) const {
  if (entries_.empty()) return {"clean", 0};
  // A nanosecond of slack, so that frame times computed as i / fps land in
  // the entry that starts at that time despite rounding.
  constexpr double kSlack = 1e-9;
  double local = std::fmod(std::max(0.0, t) + kSlack, period_);
  for (const ScheduleEntry& e : entries_) {
    if (local < e.seconds || &e == &entries_.back()) {
      if (e.condition == "clean") return {"clean", 0};
      const int steps = std::abs(e.to_severity - e.from_severity) + 1;
      const int k = std::clamp(static_cast<int>(std::floor(local / e.seconds * steps)), 0, steps - 1);
      const int direction = e.to_severity >= e.from_severity ? 1 : -1;
      return {e.condition, e.from_severity + direction * k};
    }
    local -= e.seconds;
  }
  return {"clean", 0};  // not reached
}

}  // namespace ecotta::corrupt
