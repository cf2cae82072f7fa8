#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "corrupt/condition_schedule.h"
#include "corrupt/corruption.h"

using ecotta::corrupt::ConditionSchedule;

namespace {

std::string describe(const ConditionSchedule& s, double t) {
  const auto c = s.at(t);
  return c.name + "@" + std::to_string(c.severity);
}

void expect_invalid(const std::string& spec, const std::string& fragment) {
  try {
    ConditionSchedule::parse(spec);
    FAIL() << "expected std::invalid_argument for '" << spec << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(ConditionSchedule, ParsesEntriesWithDefaultsAndRamps) {
  const auto s = ConditionSchedule::parse("clean:3, fog@1-5:5 ,night@4:3,snow:0.5");
  ASSERT_EQ(s.entries().size(), 4u);
  EXPECT_EQ(s.entries()[0].condition, "clean");
  EXPECT_EQ(s.entries()[1].from_severity, 1);
  EXPECT_EQ(s.entries()[1].to_severity, 5);
  EXPECT_EQ(s.entries()[2].from_severity, 4);
  EXPECT_EQ(s.entries()[2].to_severity, 4);
  EXPECT_EQ(s.entries()[3].from_severity, 5);  // default severity
  EXPECT_DOUBLE_EQ(s.entries()[3].seconds, 0.5);
  EXPECT_DOUBLE_EQ(s.period(), 11.5);
}

TEST(ConditionSchedule, RampsStepEvenlyAndTheScheduleRepeats) {
  const auto s = ConditionSchedule::parse("clean:3,fog@1-5:5,night@4:3");
  EXPECT_EQ(describe(s, 0), "clean@0");
  EXPECT_EQ(describe(s, 2.99), "clean@0");
  EXPECT_EQ(describe(s, 3.0), "fog@1");
  EXPECT_EQ(describe(s, 3.99), "fog@1");
  EXPECT_EQ(describe(s, 4.0), "fog@2");
  EXPECT_EQ(describe(s, 7.5), "fog@5");
  EXPECT_EQ(describe(s, 8.0), "night@4");
  EXPECT_EQ(describe(s, 10.999), "night@4");
  EXPECT_EQ(describe(s, 11.0), "clean@0");  // again from the start
  EXPECT_EQ(describe(s, 15.0), "fog@2");
  // Frame times i / fps land on the entry that starts there, despite rounding.
  const auto t = ConditionSchedule::parse("clean:0.1,fog@3:0.2");
  EXPECT_EQ(describe(t, 3 / 30.0), "fog@3");
  EXPECT_EQ(describe(t, 9 / 30.0), "clean@0");
}

TEST(ConditionSchedule, DownwardRamps) {
  const auto s = ConditionSchedule::parse("snow@5-2:2");
  EXPECT_EQ(describe(s, 0.0), "snow@5");
  EXPECT_EQ(describe(s, 0.5), "snow@4");
  EXPECT_EQ(describe(s, 1.0), "snow@3");
  EXPECT_EQ(describe(s, 1.99), "snow@2");
}

TEST(ConditionSchedule, RefusesMalformedEntries) {
  expect_invalid("fog@6:2", "1..5");
  expect_invalid("mist:2", "unknown condition 'mist'");
  expect_invalid("fog", "no ':seconds'");
  expect_invalid("fog:0", "positive");
  expect_invalid("fog:abc", "not a number");
  expect_invalid("clean@2:1", "clean takes no severity");
  expect_invalid("clean:1,,fog:1", "empty entry");
  expect_invalid("fog@1-x:2", "severity 'x'");
}

TEST(ConditionSchedule, ErrorsNameTheEntryAndEveryKnownCondition) {
  expect_invalid("clean:1, mist@2:3 ,fog:1", "schedule entry 'mist@2:3'");
  for (const std::string& name : ecotta::corrupt::all_corruptions()) expect_invalid("mist:1", name);
  expect_invalid("mist:1", "clean");
}

TEST(ConditionSchedule, TheDefaultScheduleParses) {
  const auto s = ConditionSchedule::parse(ecotta::corrupt::kDefaultSchedule);
  EXPECT_GT(s.period(), 0);
  EXPECT_EQ(describe(s, 0), "clean@0");
}
