// The archive check that runs before LibTorch parses a bundle or a
// checkpoint: every entry inside the file and matching its CRC-32.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "data/data_error.h"
#include "data/zip_integrity.h"

using ecotta::data::check_zip_integrity;
using ecotta::data::DataError;

namespace {

void put(std::string& out, uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string raw_deflate(const std::string& data) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Entry {
  std::string name, data;
  bool deflate = false;
};

// A zip archive as LibTorch and zip tools write them; `payload_at` gets
// where each entry's bytes start.
std::string make_zip(const std::vector<Entry>& entries, std::vector<size_t>* payload_at = nullptr) {
  std::string file, directory;
  for (const auto& e : entries) {
    const auto crc = crc32(0L, reinterpret_cast<const Bytef*>(e.data.data()), static_cast<uInt>(e.data.size()));
    const std::string packed = e.deflate ? raw_deflate(e.data) : e.data;
    const uint64_t method = e.deflate ? 8 : 0, offset = file.size();
    put(file, 0x04034b50, 4), put(file, 20, 2), put(file, 0, 2), put(file, method, 2), put(file, 0, 4);
    put(file, crc, 4), put(file, packed.size(), 4), put(file, e.data.size(), 4);
    put(file, e.name.size(), 2), put(file, 0, 2);
    file += e.name;
    if (payload_at) payload_at->push_back(file.size());
    file += packed;
    put(directory, 0x02014b50, 4), put(directory, 20, 2), put(directory, 20, 2), put(directory, 0, 2);
    put(directory, method, 2), put(directory, 0, 4), put(directory, crc, 4), put(directory, packed.size(), 4);
    put(directory, e.data.size(), 4), put(directory, e.name.size(), 2), put(directory, 0, 2), put(directory, 0, 2);
    put(directory, 0, 2), put(directory, 0, 2), put(directory, 0, 4), put(directory, offset, 4);
    directory += e.name;
  }
  const uint64_t directory_at = file.size();
  file += directory;
  put(file, 0x06054b50, 4), put(file, 0, 2), put(file, 0, 2), put(file, entries.size(), 2);
  put(file, entries.size(), 2), put(file, directory.size(), 4), put(file, directory_at, 4), put(file, 0, 2);
  return file;
}

std::string message_of(const std::string& bytes) {
  try {
    check_zip_integrity(bytes, "state.ckpt");
  } catch (const DataError& e) {
    return e.what();
  }
  return "";
}

const std::vector<Entry> kEntries = {{"archive/data.pkl", std::string(300, 'p')},
                                     {"archive/code/__torch__.py", "class Module:\n  weight : Tensor\n"},
                                     {"archive/data/0", std::string(5000, '\x3f'), true}};

}  // namespace

TEST(ZipIntegrity, AnIntactArchiveStoredOrDeflatedPasses) {
  EXPECT_NO_THROW(check_zip_integrity(make_zip(kEntries), "state.ckpt"));
}

TEST(ZipIntegrity, TheShippedBundlesPass) {
  for (const char* name : {"wrn-40-2-ecotta.ecotta", "segmenter-ecotta.ecotta"}) {
    std::ifstream in(std::string(ECOTTA_MODELS_DIR) + "/" + name, std::ios::binary);
    ASSERT_TRUE(in) << name;
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    EXPECT_NO_THROW(check_zip_integrity(bytes, name)) << name;
  }
}

TEST(ZipIntegrity, AnyChangedByteOfAnEntryIsCaughtAndNamed) {
  std::vector<size_t> at;
  const std::string good = make_zip(kEntries, &at);
  for (size_t e = 0; e < kEntries.size(); ++e) {
    std::string bad = good;
    bad[at[e] + 7] ^= 0x20;  // the TorchScript source's "Module" -> "MoDule"
    const auto why = message_of(bad);
    EXPECT_NE(why.find("state.ckpt"), std::string::npos) << why;
    EXPECT_NE(why.find("'" + kEntries[e].name + "'"), std::string::npos) << why;
  }
}

TEST(ZipIntegrity, TruncatedOrGarbageFilesAreRefused) {
  const std::string good = make_zip(kEntries);
  for (size_t keep : {size_t{0}, size_t{4}, size_t{21}, good.size() / 2, good.size() - 1})
    EXPECT_FALSE(message_of(good.substr(0, keep)).empty()) << keep;
  EXPECT_FALSE(message_of(std::string(1000, '\0')).empty());
  // A directory whose offsets point past the end.
  std::string lying = good;
  lying[lying.size() - 6] = '\x7f';
  EXPECT_FALSE(message_of(lying).empty());
}
