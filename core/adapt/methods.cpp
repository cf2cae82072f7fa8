#include "methods.h"

#include <stdexcept>

namespace ecotta::adapt {

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = {"source", "norm", "tent", "eata", "cotta", "ecotta"};
  return names;
}

void check_method_name(const std::string& name) {
  for (const auto& known : method_names())
    if (name == known) return;
  throw std::invalid_argument("unknown adaptation method '" + name +
                              "' (known: source, norm, tent, eata, cotta, ecotta)");
}

std::unique_ptr<Method> make_method(const std::string& name, model::Bundle& bundle, const MethodOptions& options) {
  if (name == "source") return make_source_method(bundle);
  if (name == "norm") return make_norm_method(bundle, options);
  if (name == "tent") return make_tent_method(bundle, options);
  if (name == "eata") return make_eata_method(bundle, options);
  if (name == "cotta") return make_cotta_method(bundle, options);
  if (name == "ecotta") {
    auto m = std::make_unique<EcoTtaMethod>(bundle, options.ecotta);
    m->reset_rule().configure(options.ecotta_reset);
    return m;
  }
  check_method_name(name);
  throw std::logic_error("make_method: '" + name + "' is known but not built");
}

}  // namespace ecotta::adapt
