#include <cmath>

#include <torch/torch.h>

#include "bn_affine_method.h"
#include "ecotta_loss.h"
#include "methods.h"

namespace ecotta::adapt {
namespace {

// Logits as rows of class scores: N x C, or every pixel of N x C x H x W.
torch::Tensor as_rows(const torch::Tensor& logits) {
  if (logits.dim() == 2) return logits;
  return logits.movedim(1, -1).reshape({-1, logits.size(1)});
}

// EATA (Niu et al., ICML 2022): Tent's parameters and test statistics, but
// only reliable (entropy below E0 = 0.4 ln C) and non-redundant (cosine
// similarity to an EMA of recent mean predictions below a margin) samples
// train, each weighted by 1/exp(H - E0), plus a Fisher-weighted anchor to
// the source BN parameters (alpha 2000) computed from clean source samples.
class EataMethod : public BnAffineMethod {
 public:
  EataMethod(model::Bundle& bundle, const MethodOptions& o)
      : BnAffineMethod(bundle, o.baseline_norm, o.eata_lr, "eata"),
        o_(o),
        mean_probs_(torch::zeros({static_cast<int64_t>(bundle.info.labels.size())})),
        mean_probs_started_(torch::zeros({})) {
    if (o.eata_source_samples.defined()) compute_fisher(o.eata_source_samples);
    remember_initial_state();
  }
  std::string name() const override { return "eata"; }

 protected:
  Step compute(const torch::Tensor& x) override {
    auto logits = bundle_.model->forward(x);
    const auto rows = as_rows(logits);
    const double e0 = o_.eata_entropy_margin * std::log(static_cast<double>(rows.size(1)));
    const auto h = softmax_entropy(rows);
    auto keep = h.detach() < e0;
    const auto probs = torch::softmax(rows.detach(), 1);
    const bool started = mean_probs_started_.item<float>() > 0;
    if (started)
      keep = keep & (torch::cosine_similarity(mean_probs_.unsqueeze(0), probs, 1).abs() < o_.eata_redundancy_margin);
    const auto kept = keep.nonzero().flatten();
    if (kept.numel() == 0) return {logits, {}};
    {
      // In place: state() hands out these very tensors.
      torch::NoGradGuard no_grad;
      const auto kept_probs = probs.index_select(0, kept).mean(0);
      if (started) mean_probs_.mul_(0.9).add_(kept_probs, 0.1);
      else mean_probs_.copy_(kept_probs);
      mean_probs_started_.fill_(1);
    }
    const auto hk = h.index_select(0, kept);
    auto loss = (hk * torch::exp(-(hk.detach() - e0))).mean();
    if (!fisher_.empty()) {
      auto reg = torch::zeros({}, loss.options());
      for (size_t i = 0; i < params_.size(); ++i) reg = reg + (fisher_[i] * (params_[i] - anchor_[i]).pow(2)).sum();
      loss = loss + o_.eata_fisher_alpha * reg;
    }
    return {logits, loss};
  }
  // The EMA of mean predictions decides which samples train, so it is
  // adapted state: saved, restored and reset with the BN parameters.
  std::vector<torch::Tensor> state() override {
    auto s = BnAffineMethod::state();
    s.push_back(mean_probs_);
    s.push_back(mean_probs_started_);
    return s;
  }
  int64_t extra_persistent_bytes() override { return tensor_bytes(fisher_) + tensor_bytes(anchor_); }

 private:
  // Diagonal Fisher information of the BN parameters on clean source data,
  // with the model's own predictions as labels (as EATA does).
  void compute_fisher(const torch::Tensor& source) {
    for (const auto& p : params_) fisher_.push_back(torch::zeros_like(p));
    const int64_t batch = 64;
    int64_t batches = 0;
    for (int64_t i = 0; i < source.size(0); i += batch, ++batches) {
      const auto logits = as_rows(bundle_.model->forward(source.slice(0, i, std::min(i + batch, source.size(0)))));
      torch::nll_loss(torch::log_softmax(logits, 1), logits.argmax(1).detach()).backward();
      torch::NoGradGuard no_grad;
      for (size_t k = 0; k < params_.size(); ++k) {
        fisher_[k] += params_[k].grad().pow(2);
        params_[k].mutable_grad().reset();
      }
    }
    torch::NoGradGuard no_grad;
    for (auto& f : fisher_) f /= static_cast<double>(std::max<int64_t>(batches, 1));
    for (const auto& p : params_) anchor_.push_back(p.detach().clone());
  }

  MethodOptions o_;
  std::vector<torch::Tensor> fisher_, anchor_;
  // EMA of the mean prediction of trained samples, and whether it has begun
  // (zeros until then, so its shape never changes).
  torch::Tensor mean_probs_, mean_probs_started_;
};

}  // namespace

std::unique_ptr<Method> make_eata_method(model::Bundle& bundle, const MethodOptions& options) {
  return std::make_unique<EataMethod>(bundle, options);
}

}  // namespace ecotta::adapt
