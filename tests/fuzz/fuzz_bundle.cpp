// libFuzzer target: the model bundle loader. Any bytes: a bundle whose
// network runs on its described input, or BundleError naming the file;
// never a crash, an abort from LibTorch, or another exception type.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "input_file.h"
#include "model/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ecotta::fuzz::input_file("bundle", data, size);
  if (path.empty()) return 0;
  try {
    auto bundle = ecotta::model::load_bundle(path);
    const auto& in = bundle.info.input;
    if (in.width > 256 || in.height > 256) return 0;  // valid but too slow to run here
    torch::NoGradGuard no_grad;
    const auto out = bundle.model->forward(torch::zeros({1, 3, in.height, in.width}));
    if (out.size(0) != 1) __builtin_trap();
  } catch (const ecotta::model::BundleError&) {
  }
  return 0;
}
