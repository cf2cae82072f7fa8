#pragma once
#include <string>

namespace ecotta::adapt {

// Where a method runs. Each setting has its own defaults, chosen on that
// setting's validation stream (training images, never test images);
// docs/defaults.md lists every value and how it was chosen.
enum class Setting {
  Batch,         // classification, batches of 64 of a shuffled stream (`ecotta bench`)
  Frames,        // classification, a video's frames one by one, steps on the element's sample buffer
  Segmentation,  // segmentation, batches of 2 (`ecotta bench --task segment`, the element)
};

// `validated` (the table below) or `paper` (each method's published setting).
enum class Preset { Validated, Paper };
// "validated" or "paper"; std::invalid_argument naming both otherwise.
Preset parse_preset(const std::string& name);
std::string to_string(Preset preset);

// Each method's optimizer learning rate.
struct LearningRates {
  double tent, eata, cotta, rotta, ecotta;
};

// The papers' CIFAR settings: Adam 1e-3 for Tent, EATA (CIFAR ports),
// CoTTA and RoTTA; SGD 5e-3 for EcoTTA.
inline constexpr LearningRates kPaperRates{1e-3, 1e-3, 1e-3, 1e-3, 5e-3};
// Validated on `ecotta bench --split train --seed 1` (512 per domain, batch 64).
inline constexpr LearningRates kBatchRates{3e-3, 3e-3, 1e-3, 3e-3, 0.2};
// EcoTTA's validated on an `ecotta stream --split train` video through the
// element, Tent's on `ecotta bench --protocol buffered` over a class-
// correlated train stream (seed 1); EATA, CoTTA and RoTTA take Tent's.
inline constexpr LearningRates kFrameRates{3e-4, 3e-4, 3e-4, 3e-4, 1e-3};
// Validated for Tent and EcoTTA on the segmentation protocol over train
// scenes (batch 2, seed 1); EATA, CoTTA and RoTTA take Tent's.
inline constexpr LearningRates kSegmentationRates{1e-5, 1e-5, 1e-5, 1e-5, 2e-5};

LearningRates learning_rates(Setting setting, Preset preset = Preset::Validated);

// The method a setting runs when none is asked for (the element's
// method=auto): EcoTTA for classification; for segmentation BN adaptation
// with robust statistics ("norm"), which beat every EcoTTA configuration
// tried on the segmentation validation stream (docs/defaults.md).
std::string default_method(Setting setting);

}  // namespace ecotta::adapt
