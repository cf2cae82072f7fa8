// libFuzzer target: the condition schedule grammar (ecottacorrupt's and
// `ecotta stream`'s --schedule). Any text: a schedule or
// std::invalid_argument, and a parsed schedule answers at() for any time.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "corrupt/condition_schedule.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string spec(reinterpret_cast<const char*>(data), size);
  try {
    const auto schedule = ecotta::corrupt::ConditionSchedule::parse(spec);
    if (!(schedule.period() > 0) || !std::isfinite(schedule.period())) __builtin_trap();
    for (double t : {0.0, 0.5, schedule.period() * 0.999, schedule.period(), schedule.period() * 7.3, 1e12}) {
      const auto c = schedule.at(t);
      if (c.name.empty()) __builtin_trap();
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
