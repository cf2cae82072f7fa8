#include "zip_integrity.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "data_error.h"

namespace ecotta::data {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50, kCentralHeader = 0x02014b50, kEnd = 0x06054b50,
                   kEnd64 = 0x06064b50, kEnd64Locator = 0x07064b50;

// Little-endian reads that fail instead of reading past the end.
class Reader {
 public:
  Reader(std::string_view bytes, const std::string& what) : bytes_(bytes), what_(what) {}
  uint64_t read(uint64_t at, int width) const {
    if (at > bytes_.size() || static_cast<uint64_t>(width) > bytes_.size() - at) fail("a header lies past the end");
    uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes_[at + static_cast<uint64_t>(i)]);
    return v;
  }
  std::string_view span(uint64_t at, uint64_t size) const {
    if (at > bytes_.size() || size > bytes_.size() - at) fail("an entry lies past the end");
    return bytes_.substr(at, size);
  }
  [[noreturn]] void fail(const std::string& why) const {
    throw DataError("'" + what_ + "' is damaged or truncated: " + why);
  }
  uint64_t size() const { return bytes_.size(); }

 private:
  std::string_view bytes_;
  const std::string& what_;
};

uint32_t crc_of(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // crc32_z takes a size_t length: whole entries at once.
  return static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(data.data()), data.size()));
}

// CRC-32 of a raw-deflate stream's output, which must be `expected_size` bytes.
uint32_t crc_of_deflated(std::string_view data, uint64_t expected_size, const Reader& r, const std::string& name) {
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) r.fail("cannot start inflating entry '" + name + "'");
  std::vector<unsigned char> out(64 * 1024);
  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t produced = 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(std::min<uint64_t>(data.size(), UINT32_MAX));
  int status = Z_OK;
  while (status == Z_OK) {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    status = inflate(&z, Z_NO_FLUSH);
    const auto n = out.size() - z.avail_out;
    crc = crc32_z(crc, out.data(), n);
    produced += n;
    if (produced > expected_size) break;
    if (status == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  if (status != Z_STREAM_END || produced != expected_size) r.fail("compressed entry '" + name + "' does not inflate to its size");
  return static_cast<uint32_t>(crc);
}

}  // namespace

void check_zip_integrity(std::string_view bytes, const std::string& what) {
  const Reader r(bytes, what);
  if (bytes.size() < 22) r.fail("too short for a zip archive");
  // The end-of-central-directory record: within the last 22 + 65535 bytes.
  uint64_t end = bytes.size() - 22;
  const uint64_t lowest = bytes.size() > 22 + 65535 ? bytes.size() - 22 - 65535 : 0;
  while (r.read(end, 4) != kEnd) {
    if (end == lowest) r.fail("no zip directory at the end");
    --end;
  }
  uint64_t entries = r.read(end + 10, 2);
  uint64_t directory_size = r.read(end + 12, 4);
  uint64_t directory = r.read(end + 16, 4);
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory == 0xFFFFFFFF) {
    // Zip64: the locator just before points at the zip64 end record.
    if (end < 20 || r.read(end - 20, 4) != kEnd64Locator) r.fail("a zip64 directory without its locator");
    const uint64_t end64 = r.read(end - 20 + 8, 8);
    if (r.read(end64, 4) != kEnd64) r.fail("a zip64 locator pointing nowhere");
    entries = r.read(end64 + 32, 8);
    directory_size = r.read(end64 + 40, 8);
    directory = r.read(end64 + 48, 8);
  }
  if (entries == 0) r.fail("an empty zip archive");
  r.span(directory, directory_size);
  uint64_t at = directory;
  for (uint64_t i = 0; i < entries; ++i) {
    if (r.read(at, 4) != kCentralHeader) r.fail("entry " + std::to_string(i) + " of the zip directory is not one");
    const uint64_t method = r.read(at + 10, 2);
    const auto crc = static_cast<uint32_t>(r.read(at + 16, 4));
    uint64_t packed = r.read(at + 20, 4), size = r.read(at + 24, 4);
    const uint64_t name_length = r.read(at + 28, 2), extra_length = r.read(at + 30, 2),
                   comment_length = r.read(at + 32, 2);
    uint64_t local = r.read(at + 42, 4);
    const std::string name(r.span(at + 46, name_length));
    // Zip64 sizes and offset, in this order, for the fields that overflowed.
    for (uint64_t e = at + 46 + name_length; e + 4 <= at + 46 + name_length + extra_length;) {
      const uint64_t id = r.read(e, 2), length = r.read(e + 2, 2);
      if (id == 0x0001) {
        uint64_t f = e + 4;
        if (size == 0xFFFFFFFF) {
          size = r.read(f, 8);
          f += 8;
        }
        if (packed == 0xFFFFFFFF) {
          packed = r.read(f, 8);
          f += 8;
        }
        if (local == 0xFFFFFFFF) local = r.read(f, 8);
      }
      e += 4 + length;
    }
    if (r.read(local, 4) != kLocalHeader) r.fail("entry '" + name + "' has no local header");
    const uint64_t data = local + 30 + r.read(local + 26, 2) + r.read(local + 28, 2);
    const auto payload = r.span(data, packed);
    uint32_t actual = 0;
    if (method == 0) {
      if (packed != size) r.fail("stored entry '" + name + "' has two sizes");
      actual = crc_of(payload);
    } else if (method == 8) {
      actual = crc_of_deflated(payload, size, r, name);
    } else {
      r.fail("entry '" + name + "' uses compression method " + std::to_string(method));
    }
    if (actual != crc) r.fail("entry '" + name + "' fails its CRC-32 check");
    at += 46 + name_length + extra_length + comment_length;
  }
}

}  // namespace ecotta::data
