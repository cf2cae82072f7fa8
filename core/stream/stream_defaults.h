#pragma once
#include "model/partitioned_model.h"

namespace ecotta::stream {

// Learning rates the streaming engine uses when the caller leaves them
// unset, per task. EcoTTA's classification rate was validated on the frame
// stream itself: an `ecotta stream --split train` video (training items,
// never test images) through the element with its other defaults
// (docs/benchmarks.md, "The element on a video"; scripts/benchmarks
// streaming-validation). The benchmark's batch-64 rate (0.2) collapses
// there. The other rates are the benchmark validations' (batch 64 for
// classification, batch 2 for segmentation) and not yet checked on a frame
// stream.
struct StreamDefaults {
  double ecotta_lr, tent_lr, eata_lr, cotta_lr;
};

inline StreamDefaults stream_defaults(model::Task task) {
  if (task == model::Task::Segment) return {2e-5, 1e-5, 1e-5, 1e-5};
  return {1e-3, 3e-3, 3e-3, 1e-3};
}

}  // namespace ecotta::stream
