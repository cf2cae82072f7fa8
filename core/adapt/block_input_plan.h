#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ecotta::adapt {

// Which frozen block inputs an EcoTTA forward keeps for backward, per part:
// one block in every keep_every[k] (1: all of them, 0: none but the part's
// own input, which the meta network keeps anyway). What is not kept the
// backward recomputes (frozen_part_backward.h). Every block forward costs
// about the same in a WRN (channels double as the resolution halves), but a
// kept input costs the part's activation size, so the deep parts keep more:
//   activation <= 1/4 of the largest part's: keep all;
//   activation <= 1/2 of the largest part's: keep every other;
//   otherwise: keep none.
// On WRN-40-2 (3,3,6,6) that is 0,0,2,1 (docs/benchmarks.md, trade-off).
std::vector<int64_t> default_keep_every(const std::vector<int64_t>& part_output_floats);

// Whether a part run with `keep_every` keeps the input of its block j (the
// part's own input, j = 0, is kept by the meta network, not by the plan).
inline bool keeps_block_input(int64_t keep_every, size_t j) {
  return j > 0 && keep_every > 0 && j % static_cast<size_t>(keep_every) == 0;
}

// Throws std::invalid_argument unless `plan` has one entry >= 0 per part.
void check_keep_every(const std::vector<int64_t>& plan, size_t parts);

// `configured` when given (one entry per part, each >= 0), else the
// default. Throws std::invalid_argument for a list of the wrong length or
// a negative entry.
std::vector<int64_t> resolve_keep_every(const std::vector<int64_t>& configured,
                                        const std::vector<int64_t>& part_output_floats);

}  // namespace ecotta::adapt
