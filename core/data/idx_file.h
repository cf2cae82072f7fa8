#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ecotta::data {

// An IDX array of unsigned bytes (type code 0x08), the format of MNIST and
// Fashion-MNIST, and of what `ecotta corrupt` writes.
struct IdxArray {
  std::vector<uint32_t> dims;
  std::vector<uint8_t> data;

  size_t element_count() const;  // product of dims
};

// Reads an IDX file, gzipped or not (zlib detects which). Validates the magic
// number, the element type, the number of dimensions and that the payload is
// exactly as long as the dimensions say. Throws DataError naming the file.
IdxArray read_idx(const std::string& path);

// Writes an IDX file; gzip-compressed when the path ends in ".gz". The file
// is written to a temporary name and renamed, so readers never see half a file.
void write_idx(const std::string& path, const IdxArray& array);

}  // namespace ecotta::data
