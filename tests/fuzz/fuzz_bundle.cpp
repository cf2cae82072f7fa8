// libFuzzer target: the model bundle loader. Any bytes: a bundle whose
// network runs on its described input, or BundleError naming the file;
// never a crash, an abort from LibTorch, or another exception type.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include <torch/torch.h>

#include "model/bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/ecotta-fuzz-bundle-" + std::to_string(getpid()) + ".ecotta";
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
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
