// libFuzzer target: the IDX reader (Fashion-MNIST files, gzipped or not).
// Any bytes: an array whose element count matches its data, or
// ecotta::data::DataError; never a crash or a huge allocation from a
// header that lies.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "input_file.h"
#include "data/data_error.h"
#include "data/idx_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = ecotta::fuzz::input_file("idx", data, size);
  if (path.empty()) return 0;
  try {
    const auto array = ecotta::data::read_idx(path);
    if (array.data.size() != array.element_count()) __builtin_trap();
  } catch (const ecotta::data::DataError&) {
  }
  return 0;
}
