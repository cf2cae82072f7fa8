#include "method.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <torch/optim/optimizer.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include "data/atomic_file.h"
#include "data/zip_integrity.h"
#include "ecotta_loss.h"
#include "model/adaptive_batch_norm.h"
#include "model_utils.h"

namespace ecotta::adapt {

int64_t tensor_bytes(const std::vector<torch::Tensor>& tensors) {
  int64_t bytes = 0;
  for (const auto& t : tensors)
    if (t.defined()) bytes += t.numel() * static_cast<int64_t>(t.element_size());
  return bytes;
}

Method::~Method() = default;

int64_t Method::trainable_count() {
  int64_t n = 0;
  for (const auto& p : trainable_parameters()) n += p.numel();
  return n;
}

void Method::remember_initial_state() {
  if (keeps_initial_copy()) {
    initial_.clear();
    for (const auto& t : state()) initial_.push_back(t.detach().clone());
  }
  optimizer_ = make_optimizer();
}

void Method::restart_optimizer() {
  clear_grads();
  optimizer_ = make_optimizer();
}

void Method::set_first_trained_part(size_t part) {
  if (part != 0)
    throw std::invalid_argument(name() + " has no parts to leave untrained (only ecotta trains deeper parts alone)");
}

void Method::restore_initial() { copy_tensors(state(), initial_); }

void Method::share_initial_state(const std::vector<torch::Tensor>& equal) {
  if (equal.size() != initial_.size())
    throw std::invalid_argument("share_initial_state: " + std::to_string(equal.size()) + " tensors for a copy of " +
                                std::to_string(initial_.size()));
  for (size_t i = 0; i < equal.size(); ++i)
    if (equal[i].scalar_type() != initial_[i].scalar_type() || equal[i].sizes() != initial_[i].sizes() ||
        !torch::equal(equal[i], initial_[i]))
      throw std::invalid_argument("share_initial_state: tensor " + std::to_string(i) + " differs from the reset copy");
  initial_ = equal;
}

void Method::forget_initial_state() {
  initial_.clear();
  initial_forgotten_ = true;
}

void Method::reset() {
  if (initial_forgotten_) throw std::logic_error(name() + ": reset() after forget_initial_state()");
  clear_grads();
  restore_initial();
  optimizer_ = make_optimizer();  // momentum from before the reset would undo it
  rule_.restart();
  ++resets_;
}

void Method::clear_grads() {
  // Gradients are freed, not zeroed: they exist only during a step, so the
  // step's peak counts them and nothing lingers between steps.
  for (auto& p : trainable_parameters()) p.mutable_grad().reset();
}

torch::Tensor Method::forward_and_adapt(const torch::Tensor& x) {
  ++steps_;
  clear_grads();
  auto step = compute(x);
  bool dropped = false;
  if (step.loss.defined() && step.loss.requires_grad()) dropped = !update(step.loss);
  clear_grads();
  auto prediction = step.prediction.detach();
  if (rule_.config().enabled) {
    const int64_t classes = prediction.size(1);
    const double entropy =
        softmax_entropy(prediction).mean().item<double>() / std::log(static_cast<double>(std::max<int64_t>(classes, 2)));
    std::vector<double> share;
    if (prediction.dim() > 2) {  // per pixel: which classes the predictions spread over
      const auto counts = torch::bincount(prediction.argmax(1).flatten(), {}, classes).to(torch::kFloat64).cpu();
      const auto shares = counts / std::max(1.0, counts.sum().item<double>());
      share.assign(shares.data_ptr<double>(), shares.data_ptr<double>() + classes);
    }
    if (rule_.observe(entropy, dropped, share)) reset();
  }
  return prediction;
}

torch::Tensor Method::predict(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  model::FreezeRobustStats frozen;
  return predict_logits(x);
}

bool Method::update(const torch::Tensor& loss) {
  if (!std::isfinite(loss.item<double>())) {
    ++skipped_;
    return false;
  }
  loss.backward();
  const auto params = trainable_parameters();
  for (const auto& p : params)
    if (p.grad().defined() && !torch::isfinite(p.grad()).all().item<bool>()) {
      ++skipped_;
      return false;
    }
  std::vector<torch::Tensor> before;
  for (const auto& p : params) before.push_back(p.detach().clone());
  optimizer_->step();
  for (const auto& p : params)
    if (!torch::isfinite(p).all().item<bool>()) {
      // Finite gradients can still overflow a parameter: put them all back.
      copy_tensors(params, before);
      ++skipped_;
      return false;
    }
  after_update();
  return true;
}

int64_t Method::persistent_bytes() {
  return tensor_bytes(initial_) + optimizer_slots() * tensor_bytes(trainable_parameters()) + extra_persistent_bytes();
}

void Method::save_state(const std::string& path) {
  std::vector<torch::Tensor> tensors;
  // Contiguous: the file's bytes do not depend on the layout the network runs in.
  for (const auto& t : state()) tensors.push_back(t.detach().contiguous());
  std::ostringstream bytes;
  torch::save(tensors, bytes);
  std::ostringstream tagged;
  const std::string tag =
      "ecotta-state:" + name() + (fingerprint_.empty() ? std::string() : " model:" + fingerprint_) + "\n";
  tagged << tag << bytes.str();
  const auto text = tagged.str();
  data::write_file_atomically(path, text.data(), text.size());
}

void Method::load_state(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the adapted-state file");
  std::string tag;
  std::getline(in, tag);
  // "ecotta-state:<method>[ model:<fingerprint>]"
  const auto space = tag.find(' ');
  if (tag.substr(0, space) != "ecotta-state:" + name())
    throw std::runtime_error(path + ": not a saved state of method '" + name() + "'");
  if (space != std::string::npos && !fingerprint_.empty()) {
    const std::string saved = tag.substr(space + 1);
    if (saved.rfind("model:", 0) != 0 || saved.substr(6) != fingerprint_)
      throw std::runtime_error(path + ": saved for another model (weights " + saved.substr(saved.find(':') + 1) +
                               ", this model's " + fingerprint_ + ")");
  }
  // torch::load reads a zip archive and wants a stream that starts with it.
  const std::string bytes(std::istreambuf_iterator<char>(in), {});
  data::check_zip_integrity(bytes, path);  // LibTorch's parsers crash on damaged archives
  std::istringstream archive(bytes);
  std::vector<torch::Tensor> tensors;
  try {
    torch::load(tensors, archive);
  } catch (const std::exception&) {
    // c10::Error, and the TorchScript lexer's and compiler's own errors for
    // damaged class definitions in the archive (found by fuzz_checkpoint).
    throw std::runtime_error(path + ": the adapted-state file is damaged or truncated");
  }
  const auto now = state();
  if (tensors.size() != now.size())
    throw std::runtime_error(path + ": holds " + std::to_string(tensors.size()) + " tensors, this model's " + name() +
                             " state has " + std::to_string(now.size()));
  for (size_t i = 0; i < now.size(); ++i)
    if (!tensors[i].sizes().equals(now[i].sizes()) || tensors[i].scalar_type() != now[i].scalar_type())
      throw std::runtime_error(path + ": tensor " + std::to_string(i) + " does not match this model");
  copy_tensors(now, tensors);
  clear_grads();
  optimizer_ = make_optimizer();
  rule_.restart();
}

}  // namespace ecotta::adapt
