#include "rotta_memory.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include <torch/torch.h>

namespace ecotta::adapt {

CategoryBalancedMemory::CategoryBalancedMemory(size_t capacity, int64_t classes, double lambda_t, double lambda_u)
    : capacity_(capacity), lambda_t_(lambda_t), lambda_u_(lambda_u) {
  if (capacity == 0) throw std::invalid_argument("RoTTA's memory bank needs room for at least one sample");
  if (classes < 2) throw std::invalid_argument("RoTTA's memory bank needs at least two classes");
  per_class_ = static_cast<double>(capacity) / static_cast<double>(classes);
  log_classes_ = std::log(static_cast<double>(classes));
  classes_.resize(static_cast<size_t>(classes));
}

double CategoryBalancedMemory::score(double age, double uncertainty) const {
  return lambda_t_ / (1.0 + std::exp(-age / static_cast<double>(capacity_))) + lambda_u_ * uncertainty / log_classes_;
}

bool CategoryBalancedMemory::add(const torch::Tensor& sample, int64_t pseudo_label, double uncertainty) {
  if (pseudo_label < 0 || pseudo_label >= static_cast<int64_t>(classes_.size()))
    throw std::invalid_argument("pseudo-label " + std::to_string(pseudo_label) + " outside 0.." +
                                std::to_string(classes_.size() - 1));
  // A non-finite sample would spoil every update until evicted (and its
  // entropy, NaN, would defeat the scores): it is refused.
  const bool finite = std::isfinite(uncertainty) &&
                      (!sample.is_floating_point() || torch::isfinite(sample).all().item<bool>());
  const bool stored = finite && make_room(pseudo_label, score(0, uncertainty));
  if (stored) classes_[static_cast<size_t>(pseudo_label)].push_back({sample.detach().clone(), uncertainty, 0.0});
  for (auto& items : classes_)
    for (auto& item : items) item.age += 1;
  return stored;
}

bool CategoryBalancedMemory::make_room(int64_t label, double newcomer_score) {
  const auto held = classes_[static_cast<size_t>(label)].size();
  if (static_cast<double>(held) >= per_class_) return evict_highest({static_cast<size_t>(label)}, newcomer_score);
  if (size() < capacity_) return true;
  // Full, and this class holds less than its share: the most-held classes give way.
  size_t most = 0;
  for (const auto& items : classes_) most = std::max(most, items.size());
  std::vector<size_t> majority;
  for (size_t c = 0; c < classes_.size(); ++c)
    if (classes_[c].size() == most) majority.push_back(c);
  return evict_highest(majority, newcomer_score);
}

bool CategoryBalancedMemory::evict_highest(const std::vector<size_t>& classes, double newcomer_score) {
  size_t best_class = 0, best_index = 0;
  double best = -1;
  bool found = false;
  for (const auto c : classes)
    for (size_t i = 0; i < classes_[c].size(); ++i) {
      const double s = score(classes_[c][i].age, classes_[c][i].uncertainty);
      if (!found || s >= best) best = s, best_class = c, best_index = i, found = true;
    }
  if (!found) return true;
  if (best <= newcomer_score) return false;
  auto& items = classes_[best_class];
  items.erase(items.begin() + static_cast<std::ptrdiff_t>(best_index));
  return true;
}

CategoryBalancedMemory::Contents CategoryBalancedMemory::contents() const {
  std::vector<torch::Tensor> samples;
  std::vector<float> ages;
  for (const auto& items : classes_)
    for (const auto& item : items) {
      samples.push_back(item.sample);
      ages.push_back(static_cast<float>(item.age / static_cast<double>(capacity_)));
    }
  if (samples.empty()) return {};
  return {torch::stack(samples), torch::tensor(ages).to(samples.front().device())};
}

size_t CategoryBalancedMemory::size() const {
  size_t n = 0;
  for (const auto& items : classes_) n += items.size();
  return n;
}

std::vector<size_t> CategoryBalancedMemory::per_class() const {
  std::vector<size_t> out;
  for (const auto& items : classes_) out.push_back(items.size());
  return out;
}

int64_t CategoryBalancedMemory::bytes() const {
  int64_t b = 0;
  for (const auto& items : classes_)
    for (const auto& item : items) b += item.sample.numel() * static_cast<int64_t>(item.sample.element_size());
  return b;
}

void CategoryBalancedMemory::clear() {
  for (auto& items : classes_) items.clear();
}

}  // namespace ecotta::adapt
