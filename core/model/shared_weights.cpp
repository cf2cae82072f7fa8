#include "shared_weights.h"

#include <map>
#include <mutex>
#include <unordered_set>

#include <torch/torch.h>

namespace ecotta::model {

struct SharedWeights {
  std::map<std::string, torch::Tensor> tensors;  // by parameter/buffer name
  std::vector<torch::Tensor> robust_anchor;
  int64_t bytes = 0;
};

namespace {

std::mutex registry_mutex;
std::map<std::string, std::weak_ptr<SharedWeights>>& registry() {
  static std::map<std::string, std::weak_ptr<SharedWeights>> entries;
  return entries;
}

int64_t bytes_of(const torch::Tensor& t) { return static_cast<int64_t>(t.numel()) * static_cast<int64_t>(t.element_size()); }

// The network's parameters and buffers by name (names are unique across
// both: LibTorch refuses a buffer named like a parameter).
std::vector<std::pair<std::string, torch::Tensor>> named_tensors(PartitionedModel& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : model.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

// Same dtype, shape, layout and values: safe to read one for the other.
bool same(const torch::Tensor& a, const torch::Tensor& b) {
  return a.scalar_type() == b.scalar_type() && a.device() == b.device() && a.sizes() == b.sizes() &&
         a.strides() == b.strides() && torch::equal(a, b);
}

}  // namespace

WeightShare share_frozen_weights(Bundle& bundle, const std::vector<torch::Tensor>& adapted) {
  WeightShare out;
  if (!bundle.model || bundle.fingerprint.empty()) return out;
  std::unordered_set<const void*> changing;
  for (const auto& t : adapted)
    if (t.defined()) changing.insert(t.storage().data());
  const auto tensors = named_tensors(*bundle.model);
  if (tensors.empty()) return out;
  const auto frozen = [&](const torch::Tensor& t) {
    return t.defined() && t.is_floating_point() && changing.count(t.storage().data()) == 0;
  };
  torch::NoGradGuard no_grad;
  const std::string key = bundle.fingerprint + "@" + tensors.front().second.device().str();
  std::lock_guard<std::mutex> lock(registry_mutex);
  auto& slot = registry()[key];
  auto entry = slot.lock();
  if (!entry) {
    auto fresh = std::make_shared<SharedWeights>();
    for (const auto& [name, t] : tensors) {
      if (!frozen(t)) {
        out.own_bytes += bytes_of(t);
        continue;
      }
      fresh->tensors.emplace(name, t.detach());  // an alias of the storage, without autograd settings
      fresh->bytes += bytes_of(t);
    }
    fresh->robust_anchor = bundle.robust_anchor;
    for (const auto& t : bundle.robust_anchor) fresh->bytes += bytes_of(t);
    out.shared_bytes = fresh->bytes;
    out.first = true;
    slot = fresh;
    out.hold = std::move(fresh);
    return out;
  }
  for (const auto& [name, t] : tensors) {
    const auto it = entry->tensors.find(name);
    if (!frozen(t) || it == entry->tensors.end() || !same(t, it->second)) {
      out.own_bytes += bytes_of(t);
      continue;
    }
    // The module keeps its own tensor object (and autograd settings); only
    // its storage becomes the shared one. Its own copy is freed here.
    auto target = t;
    target.set_data(it->second);
    out.shared_bytes += bytes_of(t);
  }
  if (bundle.robust_anchor.size() == entry->robust_anchor.size()) {
    for (size_t i = 0; i < bundle.robust_anchor.size(); ++i) {
      if (!same(bundle.robust_anchor[i], entry->robust_anchor[i])) continue;
      bundle.robust_anchor[i] = entry->robust_anchor[i];
      out.shared_bytes += bytes_of(entry->robust_anchor[i]);
    }
  }
  out.hold = std::move(entry);
  return out;
}

EqualTensors share_equal_tensors(const std::string& key, const std::vector<torch::Tensor>& tensors) {
  struct Entry {
    std::vector<torch::Tensor> tensors;
  };
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<Entry>> entries;
  torch::NoGradGuard no_grad;
  std::lock_guard<std::mutex> lock(mutex);
  auto& slot = entries[key];
  if (auto entry = slot.lock()) {
    bool equal = entry->tensors.size() == tensors.size();
    for (size_t i = 0; equal && i < tensors.size(); ++i) equal = same(entry->tensors[i], tensors[i]);
    if (!equal) return {tensors, nullptr};
    return {entry->tensors, entry};
  }
  auto entry = std::make_shared<Entry>();
  for (const auto& t : tensors) entry->tensors.push_back(t.detach());
  slot = entry;
  return {entry->tensors, entry};
}

SharedWeightsRegistryStats shared_weights_registry_stats() {
  SharedWeightsRegistryStats out;
  std::lock_guard<std::mutex> lock(registry_mutex);
  for (auto it = registry().begin(); it != registry().end();) {
    if (auto e = it->second.lock()) {
      ++out.networks;
      out.bytes += e->bytes;
      ++it;
    } else {
      it = registry().erase(it);
    }
  }
  return out;
}

}  // namespace ecotta::model
