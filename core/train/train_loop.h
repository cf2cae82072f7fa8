#pragma once
#include <functional>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "model/bundle.h"
#include "tensor_data.h"

namespace ecotta::train {

// Supervised training with SGD and a cosine schedule, shared by source
// pre-training (all parameters of a fresh network) and meta-network warm-up
// (only the meta networks' parameters, the network frozen).
struct TrainConfig {
  int epochs = 10;
  int64_t batch = 128;
  double lr = 0.1;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool nesterov = true;
  int64_t crop_padding = 4;  // random translation by up to this many pixels (zero fill)
  bool flip = true;          // random horizontal flips
  uint64_t seed = 0;
  std::string device = "cpu";   // "cpu" or "cuda" (when LibTorch was built with it)
  std::string checkpoint_path;  // written after every epoch when set; resumed from when present
  int stop_after = 0;           // > 0: return after this epoch (train in sittings; resume later)
};

struct EpochReport {
  int epoch = 0;  // 1-based
  double loss = 0;
  double accuracy = 0;  // train accuracy (pixel accuracy for segmentation) on augmented batches
  double seconds = 0;       // the epoch's steps
  double data_seconds = 0;  // getting the epoch's data (EpochData below; ~0 for a fixed data set)
};

// What is trained: a forward function from normalized input to logits, the
// parameters to update, the module(s) saved in checkpoints, and a hook that
// puts the modules into their training configuration before each epoch.
struct TrainTarget {
  std::function<torch::Tensor(const torch::Tensor&)> forward;
  std::vector<torch::Tensor> parameters;
  std::shared_ptr<torch::nn::Module> checkpoint_module;
  std::function<void()> enter_training;
};

// Runs the epochs (resuming from the checkpoint if one exists) and returns
// one report per epoch run. Shows a progress bar on stderr when `progress`.
std::vector<EpochReport> train(const TrainTarget& target, const TensorDataset& data, const model::InputSpec& spec,
                               const TrainConfig& config, bool progress);

// The data of one epoch (0-based), for training on data that changes from
// epoch to epoch (e.g. newly generated scenes). It must depend only on the
// epoch, so that a resumed run trains on what an uninterrupted one would, and
// hold the same number of samples every epoch (the schedule counts steps).
using EpochData = std::function<TensorDataset(int epoch)>;

// As above, asking `data_for_epoch` for each epoch's data just before that
// epoch runs (epochs done before a resumed checkpoint are not asked for).
// Throws std::invalid_argument when an epoch's size differs from the first's.
std::vector<EpochReport> train(const TrainTarget& target, const EpochData& data_for_epoch,
                               const model::InputSpec& spec, const TrainConfig& config, bool progress);

// Random crop (zero padded) and flip applied identically to images and, for
// segmentation, their label maps. Exposed for tests.
void augment(torch::Tensor& images, torch::Tensor& targets, int64_t padding, bool flip, torch::Generator& gen);

torch::Device parse_device(const std::string& name);

}  // namespace ecotta::train
