#include "block_input_plan.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace ecotta::adapt {

std::vector<int64_t> default_keep_every(const std::vector<int64_t>& part_output_floats) {
  const int64_t largest =
      part_output_floats.empty() ? 0 : *std::max_element(part_output_floats.begin(), part_output_floats.end());
  std::vector<int64_t> out;
  for (const int64_t floats : part_output_floats)
    out.push_back(4 * floats <= largest ? 1 : 2 * floats <= largest ? 2 : 0);
  return out;
}

void check_keep_every(const std::vector<int64_t>& plan, size_t parts) {
  if (plan.size() != parts)
    throw std::invalid_argument("EcoTTA: keep-every lists " + std::to_string(plan.size()) + " parts, the network has " +
                                std::to_string(parts));
  for (const int64_t every : plan)
    if (every < 0)
      throw std::invalid_argument("EcoTTA: keep-every entries are 0 (none), 1 (all) or n (one in n), got " +
                                  std::to_string(every));
}

std::vector<int64_t> resolve_keep_every(const std::vector<int64_t>& configured,
                                        const std::vector<int64_t>& part_output_floats) {
  if (configured.empty()) return default_keep_every(part_output_floats);
  check_keep_every(configured, part_output_floats.size());
  return configured;
}

}  // namespace ecotta::adapt
