#include "method_defaults.h"

#include <stdexcept>

namespace ecotta::adapt {

Preset parse_preset(const std::string& name) {
  if (name == "validated") return Preset::Validated;
  if (name == "paper") return Preset::Paper;
  throw std::invalid_argument("unknown preset '" + name + "' (expected validated or paper)");
}

std::string to_string(Preset preset) { return preset == Preset::Paper ? "paper" : "validated"; }

LearningRates learning_rates(Setting setting, Preset preset) {
  if (preset == Preset::Paper) return kPaperRates;
  switch (setting) {
    case Setting::Batch: return kBatchRates;
    case Setting::Frames: return kFrameRates;
    case Setting::Segmentation: return kSegmentationRates;
  }
  throw std::logic_error("learning_rates: bad setting");
}

std::string default_method(Setting setting) { return setting == Setting::Segmentation ? "norm" : "ecotta"; }

}  // namespace ecotta::adapt
