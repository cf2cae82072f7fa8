#pragma once
#include <array>
#include <string>

#include "fashion_mnist.h"  // Split
#include "image_set.h"

namespace ecotta::data {

// CIFAR-10 "binary version": each record is one label byte followed by
// 3072 pixel bytes, the 32x32 red plane, then green, then blue (row-major).
constexpr size_t kCifar10RecordBytes = 1 + 3 * 32 * 32;

// The CIFAR-10 class names, in label order.
const std::array<std::string, 10>& cifar10_classes();

// Reads one batch file (e.g. data_batch_1.bin) as 32x32x3 interleaved RGB
// images. Throws DataError naming the file when it is missing, when its size
// is not a whole number of records, or when a label is not below 10.
ImageSet load_cifar10_batch(const std::string& path);

// Reads a split from the extracted "cifar-10-batches-bin" folder:
// train = data_batch_1.bin .. data_batch_5.bin, test = test_batch.bin.
ImageSet load_cifar10(const std::string& dir, Split split);

}  // namespace ecotta::data
