#include "method_registry.h"

#include <stdexcept>

#include "ecotta_method.h"
#include "methods.h"

namespace ecotta::adapt {

const std::vector<MethodEntry>& method_registry() {
  static const std::vector<MethodEntry> entries = [] {
    std::vector<MethodEntry> e;
    e.push_back({"source", "no adaptation: the network as trained, source BN statistics",
                 [](model::Bundle& b, const MethodOptions&) { return make_source_method(b); }, false, false, false,
                 false, CostModel::Nothing});
    e.push_back({"norm", "BN statistics of the test data, no gradient",
                 [](model::Bundle& b, const MethodOptions& o) { return make_norm_method(b, o); }, true, false, false,
                 false, CostModel::Nothing});
    e.push_back({"tent", "Tent: entropy minimization of the BN affine parameters (Adam)",
                 [](model::Bundle& b, const MethodOptions& o) { return make_tent_method(b, o); }, true, true, false,
                 false, CostModel::AllActivations});
    e.push_back({"eata", "EATA: Tent on reliable, non-redundant samples with a Fisher regularizer",
                 [](model::Bundle& b, const MethodOptions& o) { return make_eata_method(b, o); }, true, true, false,
                 true, CostModel::AllActivations});
    e.push_back({"cotta", "CoTTA: all parameters, EMA teacher, augmentation averaging, stochastic restore",
                 [](model::Bundle& b, const MethodOptions& o) { return make_cotta_method(b, o); }, true, true, false,
                 false, CostModel::AllActivations});
    e.push_back({"rotta", "RoTTA: robust BN, category-balanced memory bank, timeliness-weighted EMA-teacher targets",
                 [](model::Bundle& b, const MethodOptions& o) { return make_rotta_method(b, o); }, true, true, false,
                 false, CostModel::AllActivations, /*step_follows_batch=*/false});
    e.push_back({"ecotta", "EcoTTA: frozen network, meta networks trained with a self-distilled regularizer",
                 [](model::Bundle& b, const MethodOptions& o) -> std::unique_ptr<Method> {
                   auto m = std::make_unique<EcoTtaMethod>(b, o.ecotta);
                   m->reset_rule().configure(o.ecotta_reset);
                   return m;
                 },
                 true, true, true, false, CostModel::MetaNetworks});
    return e;
  }();
  return entries;
}

const MethodEntry& method_entry(const std::string& name) {
  std::string known;
  for (const auto& e : method_registry()) {
    if (e.name == name) return e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  throw std::invalid_argument("unknown adaptation method '" + name + "' (known: " + known + ")");
}

}  // namespace ecotta::adapt
