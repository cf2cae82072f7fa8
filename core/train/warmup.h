#pragma once
#include "model/bundle.h"
#include "train_loop.h"

namespace ecotta::train {

// EcoTTA's warm-up: trains only freshly attached meta networks on source
// data with cross-entropy while the original network stays frozen. The
// frozen BatchNorm layers normalize as they will at test time (`norm`), since
// warm-up and adaptation must agree on it; the meta networks' own BN layers
// learn their running statistics (Train mode).
std::vector<EpochReport> warm_up(model::Bundle& bundle, const TensorDataset& source, const TrainConfig& config,
                                 model::NormMode norm, bool progress);

// As above on data that changes every epoch (e.g. newly generated scenes),
// so the meta networks cannot learn a fixed subset by heart.
std::vector<EpochReport> warm_up(model::Bundle& bundle, const EpochData& source, const TrainConfig& config,
                                 model::NormMode norm, bool progress);

}  // namespace ecotta::train
