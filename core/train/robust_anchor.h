#pragma once
#include <cstdint>

#include "model/bundle.h"
#include "tensor_data.h"

namespace ecotta::train {

// Gives a bundle whose meta networks were warmed up with batch statistics
// the robust anchor a robust warm-up would have left: the frozen network's
// BN statistics as seen through the meta networks on clean source data.
// Robust mode (one frame at a time, the GStreamer element) starts there;
// without it the frozen layers start at their own source statistics, which
// no longer fit what the meta networks feed them (the shipped classifier
// scored 24% on clean images that way). Nothing is trained: robust mode
// runs over `data` in batches of `batch`, its statistics becoming the mean
// of the batches' statistics, the meta networks normalizing with the
// statistics they learned in warm-up.
void measure_robust_anchor(model::Bundle& bundle, const TensorDataset& data, int64_t batch, torch::Device device);

}  // namespace ecotta::train
