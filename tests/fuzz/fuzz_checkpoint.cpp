// libFuzzer target: the adapted-state (checkpoint) loader, as `ecotta`
// restores checkpoint-location at start. Any bytes: the state loads with
// this model's shapes, or std::runtime_error naming the file; the method's
// state is then still finite and usable.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "input_file.h"
#include "adapt/method.h"
#include "adapt/methods.h"
#include "model/bundle.h"

namespace {
ecotta::adapt::Method& method() {
  // The bundle named by ECOTTA_FUZZ_BUNDLE (scripts/fuzz: the shipped WRN-40-2).
  static ecotta::model::Bundle bundle = [] {
    const char* path = std::getenv("ECOTTA_FUZZ_BUNDLE");
    if (!path) {
      std::fprintf(stderr, "fuzz_checkpoint: set ECOTTA_FUZZ_BUNDLE to a bundle with meta networks\n");
      std::abort();
    }
    return ecotta::model::load_bundle(path);
  }();
  static auto m = ecotta::adapt::make_method("ecotta", bundle, {});
  return *m;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& m = method();
  const std::string path = ecotta::fuzz::input_file("state", data, size);
  if (path.empty()) return 0;
  try {
    m.load_state(path);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
