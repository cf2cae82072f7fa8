// libFuzzer target: the CIFAR-10 binary batch reader. Any bytes: images
// and labels in range, or ecotta::data::DataError.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "input_file.h"
#include "data/cifar10.h"
#include "data/data_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ecotta::fuzz::input_file("cifar", data, size);
  if (path.empty()) return 0;
  try {
    const auto set = ecotta::data::load_cifar10_batch(path);
    for (auto label : set.labels)
      if (label >= 10) __builtin_trap();
    if (set.pixels.size() != set.size() * 32 * 32 * 3) __builtin_trap();
  } catch (const ecotta::data::DataError&) {
  }
  return 0;
}
