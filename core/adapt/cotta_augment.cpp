#include "cotta_augment.h"

#include <torch/torch.h>

namespace ecotta::adapt {
namespace {

double uniform(double lo, double hi) { return lo + (hi - lo) * torch::rand({1}).item<double>(); }

torch::Tensor channel_tensor(const std::vector<float>& v, const torch::Tensor& like) {
  return torch::tensor(v, like.options()).view({1, -1, 1, 1});
}

}  // namespace

torch::Tensor cotta_augment(const torch::Tensor& x, const model::InputSpec& spec, bool geometric) {
  torch::NoGradGuard no_grad;
  const auto mean = channel_tensor(spec.mean, x), std = channel_tensor(spec.std, x);
  auto img = x * std + mean;
  img = img * uniform(0.8, 1.2);                                           // brightness
  const auto gray = img.mean({1, 2, 3}, /*keepdim=*/true);
  img = (img - gray) * uniform(0.85, 1.15) + gray;                         // contrast
  img = img.clamp(0, 1).pow(uniform(0.85, 1.25));                         // gamma
  if (geometric) {
    const int64_t max_shift = std::max<int64_t>(1, x.size(3) / 16);
    const auto dy = static_cast<int64_t>(std::lround(uniform(-max_shift, max_shift)));
    const auto dx = static_cast<int64_t>(std::lround(uniform(-max_shift, max_shift)));
    const auto padded = torch::replication_pad2d(img, {max_shift, max_shift, max_shift, max_shift});
    img = padded.slice(2, max_shift + dy, max_shift + dy + x.size(2)).slice(3, max_shift + dx, max_shift + dx + x.size(3));
    if (uniform(0, 1) < 0.5) img = img.flip({3});
  }
  img = (img + torch::randn_like(img) * 0.005).clamp(0, 1);
  return (img - mean) / std;
}

}  // namespace ecotta::adapt
