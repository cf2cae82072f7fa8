#include "methods.h"

#include "method_registry.h"

namespace ecotta::adapt {

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& e : method_registry()) n.push_back(e.name);
    return n;
  }();
  return names;
}

void check_method_name(const std::string& name) { method_entry(name); }

std::unique_ptr<Method> make_method(const std::string& name, model::Bundle& bundle, const MethodOptions& options) {
  return method_entry(name).make(bundle, options);
}

}  // namespace ecotta::adapt
