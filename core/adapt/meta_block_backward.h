#pragma once
#include <utility>

#include <torch/types.h>

#include "model/meta_network.h"

namespace ecotta::adapt {

// Meta block k's adapted output x~_k = BN(x_k) + ReLU(BN(Conv(x~_{k-1})))
// and its self-distillation term R_k = mean |x~_k - x_k| (x_k a constant),
// computed together so that backward keeps only the block's two inputs:
// the conv and BN intermediates and the L1 sign are recomputed from them,
// and the backward is written by hand (the kernels autograd calls, without
// its graph). Plain autograd would keep four more tensors of the part's
// output size, and a recomputation under autograd would build them again.
std::pair<torch::Tensor, torch::Tensor> meta_block_forward(model::MetaBlockImpl& block, const torch::Tensor& part_input,
                                                           const torch::Tensor& frozen_output);

}  // namespace ecotta::adapt
