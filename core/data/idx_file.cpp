#include "idx_file.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>

#include "atomic_file.h"
#include "data_error.h"

namespace ecotta::data {
namespace {

constexpr uint8_t kTypeUnsignedByte = 0x08;
constexpr int kMaxDims = 8;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzHandle = std::unique_ptr<gzFile_s, GzCloser>;

// Reads exactly `size` bytes or reports how many were there.
size_t read_fully(gzFile f, uint8_t* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
    const int got = gzread(f, out + done, chunk);
    if (got <= 0) break;
    done += static_cast<size_t>(got);
  }
  return done;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

size_t IdxArray::element_count() const {
  size_t n = dims.empty() ? 0 : 1;
  for (uint32_t d : dims) n *= d;
  return n;
}

IdxArray read_idx(const std::string& path) {
  GzHandle f(gzopen(path.c_str(), "rb"));
  if (!f) throw DataError("cannot open IDX file '" + path + "'");
  gzbuffer(f.get(), 1 << 18);

  uint8_t header[4];
  if (read_fully(f.get(), header, 4) != 4)
    throw DataError("'" + path + "' is not an IDX file: shorter than its 4-byte header");
  if (header[0] != 0 || header[1] != 0)
    throw DataError("'" + path + "' is not an IDX file: its magic number must start with two zero bytes");
  if (header[2] != kTypeUnsignedByte)
    throw DataError("'" + path + "': IDX element type 0x" + [&] {
      char b[8];
      std::snprintf(b, sizeof b, "%02x", header[2]);
      return std::string(b);
    }() + " is not supported (only unsigned bytes, 0x08)");
  const int ndims = header[3];
  if (ndims < 1 || ndims > kMaxDims)
    throw DataError("'" + path + "': IDX header declares " + std::to_string(ndims) +
                    " dimensions; expected 1 to " + std::to_string(kMaxDims));

  IdxArray array;
  size_t total = 1;
  for (int i = 0; i < ndims; ++i) {
    uint8_t b[4];
    if (read_fully(f.get(), b, 4) != 4)
      throw DataError("'" + path + "' is truncated inside its IDX header (dimension " + std::to_string(i) + ")");
    const uint32_t d = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
    if (d != 0 && total > std::numeric_limits<uint32_t>::max() / d)
      throw DataError("'" + path + "': IDX dimensions are implausibly large");
    total *= d;
    array.dims.push_back(d);
  }

  // Grown as the data arrives: a 16-byte file whose header promises 4 GB
  // must fail at its end, not allocate and zero 4 GB first (found by
  // tests/fuzz/fuzz_idx).
  size_t got = 0;
  while (got < total) {
    const size_t chunk = std::min<size_t>(total - got, size_t{1} << 20);
    array.data.resize(got + chunk);
    const size_t n = read_fully(f.get(), array.data.data() + got, chunk);
    got += n;
    if (n < chunk) break;
  }
  array.data.resize(got);
  if (got != total)
    throw DataError("'" + path + "' is truncated: header promises " + std::to_string(total) +
                    " bytes of data, file holds " + std::to_string(got));
  uint8_t extra;
  if (read_fully(f.get(), &extra, 1) != 0)
    throw DataError("'" + path + "' has data beyond what its IDX header declares (wrong dimensions?)");
  int err = 0;
  gzerror(f.get(), &err);
  if (err != Z_OK && err != Z_STREAM_END)
    throw DataError("'" + path + "': gzip stream is corrupt");
  return array;
}

void write_idx(const std::string& path, const IdxArray& array) {
  if (array.dims.empty() || array.dims.size() > size_t(kMaxDims))
    throw DataError("cannot write '" + path + "': an IDX array needs 1 to 8 dimensions");
  if (array.element_count() != array.data.size())
    throw DataError("cannot write '" + path + "': dimensions describe " + std::to_string(array.element_count()) +
                    " bytes but the array holds " + std::to_string(array.data.size()));

  std::vector<uint8_t> bytes;
  bytes.reserve(4 + 4 * array.dims.size() + array.data.size());
  bytes.insert(bytes.end(), {0, 0, kTypeUnsignedByte, static_cast<uint8_t>(array.dims.size())});
  for (uint32_t d : array.dims)
    bytes.insert(bytes.end(), {uint8_t(d >> 24), uint8_t(d >> 16), uint8_t(d >> 8), uint8_t(d)});
  bytes.insert(bytes.end(), array.data.begin(), array.data.end());

  if (!ends_with(path, ".gz")) {
    write_file_atomically(path, bytes.data(), bytes.size());
    return;
  }
  uLongf cap = compressBound(bytes.size()) + 64;
  // gzip framing: compress2 writes zlib; use deflateInit2 with gzip header instead.
  std::vector<uint8_t> out(cap);
  z_stream zs{};
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw DataError("cannot write '" + path + "': zlib failed to initialise");
  zs.next_in = bytes.data();
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) throw DataError("cannot write '" + path + "': gzip compression failed");
  write_file_atomically(path, out.data(), produced);
}

}  // namespace ecotta::data
