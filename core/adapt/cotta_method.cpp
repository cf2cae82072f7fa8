#include <torch/torch.h>

#include "cotta_augment.h"
#include "methods.h"
#include "model_utils.h"

namespace ecotta::adapt {
namespace {

// CoTTA (Wang et al., CVPR 2022): every parameter of the network trains
// (Adam 1e-3, CIFAR setting) towards the predictions of an EMA teacher
// (0.999); when the source model (anchor) is unsure on the batch (mean max
// probability < 0.92) the teacher's prediction is averaged over 32 random
// augmentations; after each update every weight returns to its source value
// with probability 0.01. The teacher's prediction is the output.
class CoTtaMethod : public Method {
 public:
  CoTtaMethod(model::Bundle& bundle, const MethodOptions& o) : bundle_(bundle), o_(o) {
    teacher_ = copy_network(bundle_);
    anchor_ = copy_network(bundle_);
    for (auto* m : {bundle_.model.get(), teacher_.get(), anchor_.get()}) m->apply_norm_mode(o.baseline_norm);
    set_trainable(*bundle_.model, true);
    params_ = bundle_.model->parameters();
    if (params_.empty())
      throw std::invalid_argument("cotta trains the network's parameters, and this network exposes none to the engine");
    remember_initial_state();
  }
  std::string name() const override { return "cotta"; }
  std::vector<torch::Tensor> trainable_parameters() override { return params_; }
  int64_t augmented_batches() const { return augmented_; }

 protected:
  Step compute(const torch::Tensor& x) override {
    auto logits = bundle_.model->forward(x);
    torch::Tensor target;
    {
      torch::NoGradGuard no_grad;
      const auto anchor_conf = torch::softmax(anchor_->forward(x), 1).amax(1).mean().item<double>();
      if (anchor_conf >= o_.cotta_anchor_threshold) {
        target = teacher_->forward(x);
      } else {
        // CoTTA computes the augmented predictions on every batch and uses
        // them only here; computing them only when used gives the same result.
        ++augmented_;
        const bool geometric = bundle_.info.task == model::Task::Classify;
        target = torch::zeros_like(logits);
        for (int i = 0; i < o_.cotta_augmentations; ++i)
          target += teacher_->forward(cotta_augment(x, bundle_.info.input, geometric));
        target /= static_cast<double>(std::max(o_.cotta_augmentations, 1));
      }
    }
    auto loss = -(torch::softmax(target, 1) * torch::log_softmax(logits, 1)).sum(1).mean();
    return {target, loss};
  }
  // The teacher's plain prediction (the augmented average is a training
  // target for unsure batches, not what a frame-by-frame reader can afford).
  torch::Tensor predict_logits(const torch::Tensor& x) override { return teacher_->forward(x); }
  void after_update() override {
    torch::NoGradGuard no_grad;
    const auto t = teacher_->parameters(), a = anchor_->parameters();
    for (size_t i = 0; i < params_.size(); ++i) {
      t[i].mul_(o_.cotta_ema).add_(params_[i].detach(), 1 - o_.cotta_ema);
      const auto restore = torch::rand_like(params_[i]) < o_.cotta_restore;
      params_[i].copy_(torch::where(restore, a[i], params_[i]));
    }
  }
  std::vector<torch::Tensor> state() override {
    auto s = parameters_and_buffers(*bundle_.model);
    for (const auto& t : parameters_and_buffers(*teacher_)) s.push_back(t);
    return s;
  }
  // The anchor is the source model: reset copies it into student and teacher.
  bool keeps_initial_copy() const override { return false; }
  void restore_initial() override {
    const auto source = parameters_and_buffers(*anchor_);
    for (auto* m : {bundle_.model.get(), teacher_.get()}) copy_tensors(parameters_and_buffers(*m), source);
  }
  std::unique_ptr<torch::optim::Optimizer> make_optimizer() override {
    return std::make_unique<torch::optim::Adam>(params_, torch::optim::AdamOptions(o_.cotta_lr));
  }
  int64_t optimizer_slots() const override { return 2; }
  int64_t extra_persistent_bytes() override {
    return tensor_bytes(parameters_and_buffers(*teacher_)) + tensor_bytes(parameters_and_buffers(*anchor_));
  }

 private:
  model::Bundle& bundle_;
  MethodOptions o_;
  model::ModelPtr teacher_, anchor_;
  std::vector<torch::Tensor> params_;
  int64_t augmented_ = 0;
};

}  // namespace

std::unique_ptr<Method> make_cotta_method(model::Bundle& bundle, const MethodOptions& options) {
  return std::make_unique<CoTtaMethod>(bundle, options);
}

}  // namespace ecotta::adapt
