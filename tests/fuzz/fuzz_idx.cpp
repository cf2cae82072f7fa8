// libFuzzer target: the IDX reader (Fashion-MNIST files, gzipped or not).
// Any bytes: an array whose element count matches its data, or
// ecotta::data::DataError; never a crash or a huge allocation from a
// header that lies.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "data/data_error.h"
#include "data/idx_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/ecotta-fuzz-idx-" + std::to_string(getpid());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    const auto array = ecotta::data::read_idx(path);
    if (array.data.size() != array.element_count()) __builtin_trap();
  } catch (const ecotta::data::DataError&) {
  }
  return 0;
}
