#pragma once
#include <vector>

#include <torch/types.h>

namespace ecotta::adapt {

// EcoTTA's test-time objective:
//   L = L_ent + lambda * sum_k R_k
// L_ent: mean softmax entropy over the samples whose entropy is below
//        margin * ln(C) (the others contribute nothing);
// R_k:   mean |x~_k - x_k|, the self-distilled regularizer that keeps each
//        meta network's output near its frozen part's (x_k is a constant).
struct EcoTtaLoss {
  torch::Tensor total;
  torch::Tensor entropy;      // L_ent (0 when no sample is confident)
  torch::Tensor regularizer;  // sum_k R_k
  int64_t confident = 0;      // samples that passed the entropy filter
};

// For segmentation logits (N x C x H x W) every pixel is a sample.
EcoTtaLoss ecotta_loss(const torch::Tensor& logits, const std::vector<torch::Tensor>& frozen_outputs,
                       const std::vector<torch::Tensor>& adapted_outputs, double lambda = 0.5,
                       double entropy_margin = 0.4);

// The same with the regularizer terms R_k already computed (as
// forward_for_adaptation does). With `class_balanced`, L_ent is the mean
// over the predicted classes of each class's mean entropy over its confident
// samples, not the mean over samples: on a segmentation frame most pixels
// are background, and the plain mean rewards predicting it.
EcoTtaLoss ecotta_loss_with_terms(const torch::Tensor& logits, const std::vector<torch::Tensor>& regularizers,
                                  double lambda = 0.5, double entropy_margin = 0.4, bool class_balanced = false);

// Per-sample softmax entropy of N x C (or N x C x H x W, per pixel) logits.
torch::Tensor softmax_entropy(const torch::Tensor& logits);

}  // namespace ecotta::adapt
