#pragma once
#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace ecotta::adapt {

// RoTTA's memory bank (CSTU: category-balanced sampling with timeliness and
// uncertainty; Yuan et al., CVPR 2023). Holds at most `capacity` samples,
// and of one pseudo-label at most its share, capacity / classes (rounded up).
// Every item has an age (samples offered since it came in) and the
// uncertainty (entropy) of its prediction; its score
//   lambda_t / (1 + exp(-age / capacity)) + lambda_u * uncertainty / ln C
// says how much it deserves to leave: old and unsure items go first. A new
// sample takes a free slot of its class; when its class is full it replaces
// that class's highest-scoring item, and when the bank is full it replaces
// the highest-scoring item of the most-held classes -- in both cases only
// if that item scores above the newcomer. Single-threaded (the method's).
class CategoryBalancedMemory {
 public:
  CategoryBalancedMemory(size_t capacity, int64_t classes, double lambda_t = 1.0, double lambda_u = 1.0);

  // Offers one sample (kept as a copy) with its pseudo-label and entropy;
  // true when it was stored. A sample or entropy that is not finite is
  // refused. Every item then ages by one, stored or not.
  bool add(const torch::Tensor& sample, int64_t pseudo_label, double uncertainty);

  struct Contents {
    torch::Tensor samples;  // n x sample shape, class by class, oldest first within a class
    torch::Tensor ages;     // n, each item's age / capacity (RoTTA's timeliness input)
  };
  // Empty tensors when nothing is held.
  Contents contents() const;

  size_t size() const;
  std::vector<size_t> per_class() const;
  int64_t bytes() const;  // storage of the held samples
  void clear();

 private:
  struct Item {
    torch::Tensor sample;
    double uncertainty;
    double age;
  };
  double score(double age, double uncertainty) const;
  // Frees a slot for a newcomer of `label` scoring `score`; false: keep the bank as it is.
  bool make_room(int64_t label, double score);
  bool evict_highest(const std::vector<size_t>& classes, double newcomer_score);

  size_t capacity_;
  double per_class_;
  double lambda_t_, lambda_u_, log_classes_;
  std::vector<std::vector<Item>> classes_;
};

}  // namespace ecotta::adapt
