#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "reset_rule.h"

namespace torch::optim {
class Optimizer;
}

namespace ecotta::adapt {

// A test-time adaptation method: it states how it configures the model,
// which parameters it trains, and its forward-and-adapt step. Every method
// (source, norm, tent, eata, cotta, ecotta) derives from this one class, so
// they share the loop: the guarded update, reset, the reset rule, state
// save/restore and memory accounting. Derived constructors configure the
// model and end with remember_initial_state().
class Method {
 public:
  virtual ~Method();
  virtual std::string name() const = 0;

  // Predictions (logits) for the batch, after which the method adapts on it.
  // An update whose loss, gradients or resulting parameters are not finite
  // is dropped and the state before it restored.
  torch::Tensor forward_and_adapt(const torch::Tensor& x);

  // What forward_and_adapt would report for the batch, without adapting:
  // no update, no autograd, and Robust BN layers normalize with their EMA
  // without moving it. A second instance of the same method on its own
  // copy of the bundle, holding a trainer's published adapted_state(),
  // predicts as the trainer would (streaming inference, batch 1).
  torch::Tensor predict(const torch::Tensor& x);

  // The parameters the method updates (empty for source and norm).
  virtual std::vector<torch::Tensor> trainable_parameters() { return {}; }
  int64_t trainable_count();

  // Back to the state the method started from (warmed-up meta networks,
  // source model, fresh optimizer).
  void reset();

  // The adapted state (every tensor adaptation changes) to/from a file;
  // saving is atomic (temp file + rename). Loading checks the file holds
  // this method's state for this model; optimizer moments restart.
  void save_state(const std::string& path);
  void load_state(const std::string& path);
  // The model the state belongs to (model::weights_fingerprint), written by
  // save_state and checked by load_state; make_method sets it. Files of
  // earlier versions carry none and are checked by shape alone.
  void set_model_fingerprint(std::string fingerprint) { fingerprint_ = std::move(fingerprint); }
  const std::string& model_fingerprint() const { return fingerprint_; }

  // The adapted state (what a Snapshot publishes), live tensors.
  std::vector<torch::Tensor> adapted_state() { return state(); }

  // The copy reset() restores from (empty for methods that restore from
  // elsewhere). Cameras of one model and method hold equal copies: one can
  // be shared (share_initial_state takes equal tensors, read-only from
  // then on, and throws std::invalid_argument for any that differs).
  const std::vector<torch::Tensor>& initial_state() const { return initial_; }
  void share_initial_state(const std::vector<torch::Tensor>& equal);
  // For a method that only predicts (the streaming reader, whose state
  // comes from snapshots): frees the reset copy; reset() then throws.
  void forget_initial_state();

  // Bytes the method keeps between steps beyond the frozen model: optimizer
  // moments, reset copies, teacher/anchor models, Fisher weights.
  int64_t persistent_bytes();

  int64_t steps() const { return steps_; }
  int64_t skipped_steps() const { return skipped_; }
  int64_t resets() const { return resets_; }
  ResetRule& reset_rule() { return rule_; }

  // Train only the parts from `part` on (the memory cap's "deeper parts"
  // mode), taking effect at the next step; the optimizer restarts. Only a
  // method with parts (EcoTTA) accepts a part other than 0.
  virtual void set_first_trained_part(size_t part);

 protected:
  struct Step {
    torch::Tensor prediction;  // what the method reports for the batch
    torch::Tensor loss;        // undefined: nothing to train on this batch
  };
  virtual Step compute(const torch::Tensor& x) = 0;
  // The network forward that predict() runs under its guards.
  virtual torch::Tensor predict_logits(const torch::Tensor& x) = 0;
  // After a parameter update went through (teacher EMA, stochastic restore).
  virtual void after_update() {}
  // Every tensor adaptation changes, in a fixed order.
  virtual std::vector<torch::Tensor> state() = 0;
  virtual std::unique_ptr<torch::optim::Optimizer> make_optimizer() { return nullptr; }
  // Moment tensors the optimizer keeps per trainable parameter (SGD with
  // momentum 1, Adam 2).
  virtual int64_t optimizer_slots() const { return 0; }
  // Tensors the method owns beyond state() and its reset copy.
  virtual int64_t extra_persistent_bytes() { return 0; }
  // Puts state() back to its initial values; by default from a copy taken
  // by remember_initial_state(). Methods that keep the source model anyway
  // (CoTTA's anchor) restore from it instead and keep no copy.
  virtual bool keeps_initial_copy() const { return true; }
  virtual void restore_initial();

  void remember_initial_state();
  // A fresh optimizer over trainable_parameters(), no gradients pending.
  void restart_optimizer();

 private:
  bool update(const torch::Tensor& loss);
  void clear_grads();

  std::vector<torch::Tensor> initial_;
  bool initial_forgotten_ = false;
  std::string fingerprint_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  ResetRule rule_{ResetRuleConfig{.enabled = false}};  // baselines run as published; EcoTTA enables it
  int64_t steps_ = 0, skipped_ = 0, resets_ = 0;
};

// Sum of the tensors' storage bytes.
int64_t tensor_bytes(const std::vector<torch::Tensor>& tensors);

}  // namespace ecotta::adapt
