#pragma once
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "ecotta_method.h"
#include "method.h"
#include "method_defaults.h"
#include "model/bundle.h"

namespace ecotta::adapt {

// Settings of every method in one place; each method reads its own. The
// learning rates default to those validated for classification at batch 64
// (kBatchRates); set_learning_rates puts another setting's or the papers'
// (method_defaults.h). docs/adaptation.md lists the papers' other settings
// and where we deviate.
struct MethodOptions {
  // How the baselines' BN layers normalize: batch statistics as in the papers;
  // robust (EMA anchored at the source) for streams seen a frame at a time.
  model::NormMode baseline_norm = model::NormMode::Batch;

  double tent_lr = kBatchRates.tent;  // Adam, BN affine parameters

  double eata_lr = kBatchRates.eata;  // Adam, BN affine parameters
  double eata_entropy_margin = 0.4;  // E0 = margin * ln C
  double eata_redundancy_margin = 0.4;
  double eata_fisher_alpha = 2000;
  torch::Tensor eata_source_samples;  // prepared clean source inputs for the Fisher weights; undefined = no Fisher term

  double cotta_lr = kBatchRates.cotta;  // Adam, all parameters
  double cotta_ema = 0.999;
  double cotta_restore = 0.01;
  double cotta_anchor_threshold = 0.92;
  int cotta_augmentations = 32;

  double rotta_lr = kBatchRates.rotta;     // Adam, BN affine parameters
  int rotta_memory = 64;                   // samples in the category-balanced memory bank
  int rotta_update_every = 64;             // samples between updates
  double rotta_teacher_momentum = 0.001;   // teacher = (1 - nu) teacher + nu student

  EcoTtaConfig ecotta;
  ResetRuleConfig ecotta_reset;  // the baselines run as published, without a reset rule
};

// Puts `rates` into `options` (EcoTTA's into options.ecotta.lr).
void set_learning_rates(MethodOptions& options, const LearningRates& rates);

// "source", "norm", "tent", "eata", "cotta", "rotta", "ecotta". The method configures
// the bundle's network (BN modes, requires_grad) for itself: give each
// method its own loaded bundle. Throws std::invalid_argument for an unknown
// name or a bundle the method cannot use.
std::unique_ptr<Method> make_method(const std::string& name, model::Bundle& bundle, const MethodOptions& options);
const std::vector<std::string>& method_names();
// Throws the same std::invalid_argument as make_method for an unknown name.
void check_method_name(const std::string& name);

// One constructor per method file.
std::unique_ptr<Method> make_source_method(model::Bundle& bundle);
std::unique_ptr<Method> make_norm_method(model::Bundle& bundle, const MethodOptions& options);
std::unique_ptr<Method> make_tent_method(model::Bundle& bundle, const MethodOptions& options);
std::unique_ptr<Method> make_eata_method(model::Bundle& bundle, const MethodOptions& options);
std::unique_ptr<Method> make_cotta_method(model::Bundle& bundle, const MethodOptions& options);
std::unique_ptr<Method> make_rotta_method(model::Bundle& bundle, const MethodOptions& options);

}  // namespace ecotta::adapt
