// libFuzzer target: the CIFAR-10 binary batch reader. Any bytes: images
// and labels in range, or ecotta::data::DataError.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "data/cifar10.h"
#include "data/data_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/ecotta-fuzz-cifar-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const auto set = ecotta::data::load_cifar10_batch(path);
    for (auto label : set.labels)
      if (label >= 10) __builtin_trap();
    if (set.pixels.size() != set.size() * 32 * 32 * 3) __builtin_trap();
  } catch (const ecotta::data::DataError&) {
  }
  return 0;
}
