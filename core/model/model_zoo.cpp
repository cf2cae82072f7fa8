#include "model_zoo.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace ecotta::model {

std::vector<std::string> zoo_names() { return {"wrn-40-2", "wrn-16-2", "segmenter"}; }

std::string arch_for(const std::string& name, int64_t classes) {
  using nlohmann::json;
  if (name == "wrn-40-2")
    return json{{"name", "wide_resnet"}, {"depth", 40}, {"widen", 2}, {"classes", classes}, {"split", {3, 3, 6, 6}}}
        .dump();
  if (name == "wrn-16-2")
    return json{{"name", "wide_resnet"}, {"depth", 16}, {"widen", 2}, {"classes", classes}, {"split", {1, 1, 2, 2}}}
        .dump();
  if (name == "segmenter")
    return json{{"name", "segmenter"}, {"width", 32}, {"classes", classes}, {"split", {2, 2, 2, 2}}}.dump();
  throw std::invalid_argument("unknown model '" + name + "' (expected wrn-40-2, wrn-16-2 or segmenter)");
}

Task task_for(const std::string& name) { return name == "segmenter" ? Task::Segment : Task::Classify; }

}  // namespace ecotta::model
