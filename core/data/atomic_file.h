#pragma once
#include <cstddef>
#include <string>

namespace ecotta::data {

// Writes `size` bytes to `path` through a temporary file in the same folder,
// flushed and renamed over the target: readers see the old file or the new
// one, never a partial write. Throws DataError naming the path on failure.
void write_file_atomically(const std::string& path, const void* bytes, size_t size);

}  // namespace ecotta::data
