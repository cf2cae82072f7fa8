#pragma once
#include <string>
#include <vector>

#include "partitioned_model.h"

namespace ecotta::model {

// The architectures `ecotta train` builds by name: "wrn-40-2" (default
// classifier, K=4 split 3,3,6,6), "wrn-16-2" (small and fast, split 1,1,2,2),
// "segmenter" (split 2,2,2,2). Returns the arch JSON stored in bundles.
std::string arch_for(const std::string& name, int64_t classes);
Task task_for(const std::string& name);
std::vector<std::string> zoo_names();

}  // namespace ecotta::model
