#pragma once
#include <string>
#include <vector>

#include "bench/continual_benchmark.h"
#include "data/continual_stream.h"
#include "train/tensor_data.h"

namespace ecotta::tools {

// The continual stream of `spec` over the clean test set `source`, corrupted
// batch by batch (each sample with its own seed) and prepared for the
// network. A "file:PREFIX" domain reads PREFIX-images.idx[.gz] and
// PREFIX-labels.idx[.gz] (as `ecotta corrupt` writes them) and takes its
// samples from that file, in the stream's order, wrapping around.
std::vector<bench::BenchBatch> build_bench_stream(const data::StreamSpec& spec, const train::TensorDataset& source,
                                                  const model::InputSpec& input);

}  // namespace ecotta::tools
