#include "cifar10.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "data_error.h"

namespace ecotta::data {
namespace {

constexpr int kSide = 32;
constexpr size_t kPlane = kSide * kSide;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::vector<uint8_t> read_whole_file(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) throw DataError("cannot open CIFAR-10 batch '" + path + "': " + std::strerror(errno));
  std::vector<uint8_t> bytes;
  uint8_t chunk[1 << 16];
  size_t got;
  while ((got = std::fread(chunk, 1, sizeof chunk, f.get())) > 0) bytes.insert(bytes.end(), chunk, chunk + got);
  if (std::ferror(f.get())) throw DataError("cannot read CIFAR-10 batch '" + path + "': " + std::strerror(errno));
  return bytes;
}

// Appends the records of one batch file to `set` (already 32x32x3).
void append_batch(const std::string& path, ImageSet& set) {
  const std::vector<uint8_t> bytes = read_whole_file(path);
  if (bytes.empty() || bytes.size() % kCifar10RecordBytes != 0)
    throw DataError("'" + path + "' is not a CIFAR-10 binary batch: its size, " + std::to_string(bytes.size()) +
                    " bytes, is not a positive multiple of the " + std::to_string(kCifar10RecordBytes) +
                    "-byte record (1 label + 32x32x3 pixels)");
  const size_t n = bytes.size() / kCifar10RecordBytes;
  const size_t first = set.size();
  set.labels.resize(first + n);
  set.pixels.resize((first + n) * set.image_bytes());
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* record = bytes.data() + i * kCifar10RecordBytes;
    if (record[0] >= cifar10_classes().size())
      throw DataError("'" + path + "': record " + std::to_string(i) + " has label " + std::to_string(record[0]) +
                      "; CIFAR-10 has 10 classes (0..9)");
    set.labels[first + i] = record[0];
    const uint8_t* r = record + 1;
    const uint8_t* g = r + kPlane;
    const uint8_t* b = g + kPlane;
    uint8_t* out = set.pixels.data() + (first + i) * set.image_bytes();
    for (size_t p = 0; p < kPlane; ++p) {
      out[3 * p + 0] = r[p];
      out[3 * p + 1] = g[p];
      out[3 * p + 2] = b[p];
    }
  }
}

ImageSet empty_cifar_set() {
  ImageSet set;
  set.height = kSide;
  set.width = kSide;
  set.channels = 3;
  return set;
}

}  // namespace

const std::array<std::string, 10>& cifar10_classes() {
  static const std::array<std::string, 10> names = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                    "dog",      "frog",       "horse", "ship", "truck"};
  return names;
}

ImageSet load_cifar10_batch(const std::string& path) {
  ImageSet set = empty_cifar_set();
  append_batch(path, set);
  return set;
}

ImageSet load_cifar10(const std::string& dir, Split split) {
  ImageSet set = empty_cifar_set();
  if (split == Split::Test) {
    append_batch(dir + "/test_batch.bin", set);
  } else {
    for (int i = 1; i <= 5; ++i) append_batch(dir + "/data_batch_" + std::to_string(i) + ".bin", set);
  }
  return set;
}

}  // namespace ecotta::data
