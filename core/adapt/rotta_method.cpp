#include <torch/torch.h>

#include "bn_affine_method.h"
#include "cotta_augment.h"
#include "ecotta_loss.h"
#include "methods.h"
#include "model/adaptive_batch_norm.h"
#include "model_utils.h"
#include "rotta_memory.h"

namespace ecotta::adapt {
namespace {

// RoTTA (Yuan et al., CVPR 2023), built for correlated, small-batch streams:
// - robust BN: every BN layer normalizes with an EMA (0.05) of test
//   statistics started at the source ones (model::NormMode::Robust);
// - a category-balanced memory bank of 64 samples (CategoryBalancedMemory),
//   filled with the teacher's pseudo-labels and entropies;
// - every 64 samples one update of the BN affine parameters (Adam 1e-3) on
//   the whole bank: cross-entropy of the student on a strong augmentation
//   of each sample to the teacher's prediction of the sample itself, each
//   weighted by its timeliness exp(-a) / (1 + exp(-a)) (a = age / 64);
// - the teacher is an EMA (0.999) of the student and gives the output.
// Both networks' robust statistics move only on the bank's batches; test
// batches are predicted with them frozen, as RoTTA's eval-mode forward does.
class RottaMethod : public BnAffineMethod {
 public:
  RottaMethod(model::Bundle& bundle, const MethodOptions& o)
      : BnAffineMethod(bundle, model::NormMode::Robust, o.rotta_lr, "rotta"),
        o_(o),
        memory_(static_cast<size_t>(std::max(o.rotta_memory, 1)), static_cast<int64_t>(bundle.info.labels.size())) {
    if (o.rotta_update_every < 1) throw std::invalid_argument("rotta: update_every must be at least one sample");
    teacher_ = copy_network(bundle_);
    teacher_->apply_norm_mode(model::NormMode::Robust);
    teacher_params_ = batch_norm_affine(*teacher_, "rotta");
    share_frozen_weights();
    remember_initial_state();
  }
  std::string name() const override { return "rotta"; }

 protected:
  Step compute(const torch::Tensor& x) override {
    torch::Tensor logits;
    {
      torch::NoGradGuard no_grad;
      model::FreezeRobustStats frozen;
      logits = teacher_->forward(x);
    }
    bool due = false;
    {
      torch::NoGradGuard no_grad;
      const auto labels = per_sample_label(logits);
      auto entropy = softmax_entropy(logits);
      if (entropy.dim() > 1) entropy = entropy.flatten(1).mean(1);  // per pixel: the image's mean
      const auto label = labels.cpu();
      const auto h = entropy.to(torch::kFloat64).cpu();
      for (int64_t i = 0; i < x.size(0); ++i) {
        memory_.add(x[i], label[i].item<int64_t>(), h[i].item<double>());
        if (++seen_ % o_.rotta_update_every == 0) due = true;
      }
    }
    if (!due || memory_.size() == 0) return {logits, {}};
    const auto bank = memory_.contents();
    torch::Tensor target;
    {
      torch::NoGradGuard no_grad;
      target = teacher_->forward(bank.samples);  // moves the teacher's robust statistics
    }
    const bool geometric = bundle_.info.task == model::Task::Classify;
    const auto student = bundle_.model->forward(cotta_augment(bank.samples, bundle_.info.input, geometric));
    auto per_sample = -(torch::softmax(target, 1) * torch::log_softmax(student, 1)).sum(1);
    if (per_sample.dim() > 1) per_sample = per_sample.flatten(1).mean(1);
    const auto timeliness = torch::sigmoid(-bank.ages);  // exp(-a) / (1 + exp(-a))
    return {logits, (per_sample * timeliness).mean()};
  }
  torch::Tensor predict_logits(const torch::Tensor& x) override { return teacher_->forward(x); }
  void after_update() override {
    torch::NoGradGuard no_grad;
    const double nu = o_.rotta_teacher_momentum;
    for (size_t i = 0; i < params_.size(); ++i) teacher_params_[i].mul_(1 - nu).add_(params_[i].detach(), nu);
  }
  // Student and teacher: BN affine parameters and statistics. The memory
  // bank is working storage, like an optimizer's moments: not saved, and
  // emptied by reset.
  std::vector<torch::Tensor> state() override {
    auto s = BnAffineMethod::state();
    for (const auto& p : teacher_params_) s.push_back(p);
    for (const auto& b : teacher_->buffers()) s.push_back(b);
    return s;
  }
  void restore_initial() override {
    Method::restore_initial();
    memory_.clear();
    seen_ = 0;
  }
  // The teacher's own tensors (its convolutions are the student's) and the bank.
  int64_t extra_persistent_bytes() override {
    return tensor_bytes(teacher_params_) + tensor_bytes(teacher_->buffers()) + memory_.bytes();
  }

 private:
  // The teacher's frozen weights are the student's: neither network trains
  // them, so one copy serves both and the teacher costs its BN tensors only.
  void share_frozen_weights() {
    torch::NoGradGuard no_grad;
    const auto mine = bundle_.model->parameters(), theirs = teacher_->parameters();
    for (size_t i = 0; i < mine.size(); ++i) {
      const bool affine = std::any_of(params_.begin(), params_.end(), [&](const torch::Tensor& p) { return p.is_same(mine[i]); });
      if (!affine) theirs[i].set_data(mine[i]);
    }
  }
  // Classification: the argmax; segmentation: the image's most predicted class.
  static torch::Tensor per_sample_label(const torch::Tensor& logits) {
    const auto argmax = logits.argmax(1);
    if (argmax.dim() == 1) return argmax;
    return std::get<0>(torch::mode(argmax.flatten(1), 1));
  }

  MethodOptions o_;
  CategoryBalancedMemory memory_;
  model::ModelPtr teacher_;
  std::vector<torch::Tensor> teacher_params_;
  int64_t seen_ = 0;
};

}  // namespace

std::unique_ptr<Method> make_rotta_method(model::Bundle& bundle, const MethodOptions& options) {
  return std::make_unique<RottaMethod>(bundle, options);
}

}  // namespace ecotta::adapt
