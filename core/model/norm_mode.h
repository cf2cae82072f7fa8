#pragma once
#include <string>

namespace ecotta::model {

// How a BatchNorm layer normalizes. Source training uses Train; test time
// uses one of the other three for every BN layer of the network.
enum class NormMode {
  Train,   // batch statistics, running statistics updated (source training, meta warm-up)
  Source,  // the stored running (source) statistics: the frozen network as trained
  Batch,   // statistics of the current batch, nothing stored (Tent, BN adapt)
  Robust,  // an EMA of test statistics started at the source statistics: usable at batch size 1
};

NormMode parse_norm_mode(const std::string& name);  // "train" | "source" | "batch" | "robust"
std::string to_string(NormMode mode);

}  // namespace ecotta::model
