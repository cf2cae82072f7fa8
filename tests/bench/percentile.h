#pragma once
#include <algorithm>
#include <cstddef>
#include <vector>

namespace ecotta::bench {

// The p-quantile (0..1) of `v`, nearest rank; 0 for an empty list.
inline double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto last = static_cast<double>(v.size() - 1);
  return v[static_cast<std::size_t>(std::min(last, std::max(0.0, p * last + 0.5)))];
}

}  // namespace ecotta::bench
