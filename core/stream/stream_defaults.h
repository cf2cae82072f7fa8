#pragma once
#include "model/partitioned_model.h"

namespace ecotta::stream {

// Learning rates the streaming engine uses when the caller leaves them
// unset, per task. The classification rates are the ones validated on the
// benchmark's train-split validation stream (docs/benchmarks.md, "Learning
// rates"); the segmentation ones are the segmentation validation's
// (scripts/benchmarks seg-validation). docs/elements/ecotta.md says how the
// element's defaults were checked on the frame stream.
struct StreamDefaults {
  double ecotta_lr, tent_lr, eata_lr, cotta_lr;
};

inline StreamDefaults stream_defaults(model::Task task) {
  if (task == model::Task::Segment) return {2e-5, 1e-5, 1e-5, 1e-5};
  return {0.2, 3e-3, 3e-3, 1e-3};
}

}  // namespace ecotta::stream
