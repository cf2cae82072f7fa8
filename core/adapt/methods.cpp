#include "methods.h"

#include "method_registry.h"
#include "model/bundle.h"

namespace ecotta::adapt {

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& e : method_registry()) n.push_back(e.name);
    return n;
  }();
  return names;
}

void set_learning_rates(MethodOptions& o, const LearningRates& r) {
  o.tent_lr = r.tent;
  o.eata_lr = r.eata;
  o.cotta_lr = r.cotta;
  o.rotta_lr = r.rotta;
  o.ecotta.lr = r.ecotta;
}

void check_method_name(const std::string& name) { method_entry(name); }

std::unique_ptr<Method> make_method(const std::string& name, model::Bundle& bundle, const MethodOptions& options) {
  // Fingerprinted before the method configures the model.
  auto fingerprint = model::weights_fingerprint(bundle);
  auto method = method_entry(name).make(bundle, options);
  method->set_model_fingerprint(std::move(fingerprint));
  return method;
}

}  // namespace ecotta::adapt
