#include <gtest/gtest.h>
#include <sys/resource.h>

#include <fstream>
#include <iterator>

#include "../support/temp_dir.h"
#include "data/data_error.h"
#include "data/idx_file.h"

using ecotta::data::DataError;
using ecotta::data::IdxArray;
using ecotta::data::read_idx;
using ecotta::data::write_idx;

namespace {

IdxArray sample_array() {
  IdxArray a;
  a.dims = {3, 4, 5};
  for (size_t i = 0; i < 60; ++i) a.data.push_back(static_cast<uint8_t>(i * 7));
  return a;
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Runs `f`, expects a DataError whose message contains every fragment.
template <typename F>
void expect_error(F f, std::initializer_list<std::string> fragments) {
  try {
    f();
    FAIL() << "expected a DataError";
  } catch (const DataError& e) {
    for (const auto& frag : fragments) EXPECT_NE(std::string(e.what()).find(frag), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(IdxFile, RawRoundTripIsExactAndHeaderIsStandard) {
  ecotta::testing::TempDir dir;
  const auto path = dir.file("a.idx");
  write_idx(path, sample_array());
  const auto bytes = read_bytes(path);
  ASSERT_EQ(bytes.size(), 4u + 3 * 4 + 60);
  EXPECT_EQ(bytes[0], 0);
  EXPECT_EQ(bytes[1], 0);
  EXPECT_EQ(bytes[2], 0x08);
  EXPECT_EQ(bytes[3], 3);
  EXPECT_EQ(bytes[7], 3);   // big-endian dims
  EXPECT_EQ(bytes[11], 4);
  EXPECT_EQ(bytes[15], 5);
  const auto back = read_idx(path);
  EXPECT_EQ(back.dims, sample_array().dims);
  EXPECT_EQ(back.data, sample_array().data);
}

TEST(IdxFile, GzipRoundTripIsCompressedAndExact) {
  ecotta::testing::TempDir dir;
  const auto path = dir.file("a.idx.gz");
  write_idx(path, sample_array());
  const auto bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0x1f);  // gzip magic
  EXPECT_EQ(bytes[1], 0x8b);
  const auto back = read_idx(path);
  EXPECT_EQ(back.data, sample_array().data);
}

TEST(IdxFile, MissingFileNamesThePath) {
  expect_error([] { read_idx("/nonexistent/x.idx"); }, {"/nonexistent/x.idx", "cannot open"});
}

TEST(IdxFile, WrongMagicIsRejected) {
  ecotta::testing::TempDir dir;
  const auto path = dir.file("bad.idx");
  write_bytes(path, {'P', 'K', 3, 4, 0, 0, 0, 1, 9});
  expect_error([&] { read_idx(path); }, {path, "magic"});
}

TEST(IdxFile, UnsupportedElementTypeIsRejected) {
  ecotta::testing::TempDir dir;
  const auto path = dir.file("float.idx");
  write_bytes(path, {0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  expect_error([&] { read_idx(path); }, {path, "0x0d", "not supported"});
}

TEST(IdxFile, TruncatedPayloadIsRejectedWithCounts) {
  ecotta::testing::TempDir dir;
  const auto good = dir.file("good.idx");
  write_idx(good, sample_array());
  auto bytes = read_bytes(good);
  bytes.resize(bytes.size() - 10);
  const auto path = dir.file("truncated.idx");
  write_bytes(path, bytes);
  expect_error([&] { read_idx(path); }, {path, "truncated", "60", "50"});
}

TEST(IdxFile, AHeaderPromisingGigabytesWithoutTheDataFailsWithoutAllocatingThem) {
  ecotta::testing::TempDir dir;
  const auto path = dir.file("liar.idx");
  // 3 dimensions of 1625 x 1625 x 1625: 4.29e9 bytes promised, 16 present.
  write_bytes(path, {0, 0, 8, 3, 0, 0, 6, 0x59, 0, 0, 6, 0x59, 0, 0, 6, 0x59, 1, 2, 3, 4});
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  expect_error([&] { read_idx(path); }, {path, "truncated", "4291015625", "4"});
  getrusage(RUSAGE_SELF, &after);
  EXPECT_LT(after.ru_maxrss - before.ru_maxrss, 64 * 1024) << "KiB of peak RSS added by reading a 20-byte file";
}

TEST(IdxFile, TruncatedHeaderIsRejected) {
  ecotta::testing::TempDir dir;
  const auto path = dir.file("short.idx");
  write_bytes(path, {0, 0, 8, 3, 0, 0});
  expect_error([&] { read_idx(path); }, {path, "truncated inside its IDX header"});
}

TEST(IdxFile, TrailingBytesAreRejected) {
  ecotta::testing::TempDir dir;
  const auto good = dir.file("good.idx");
  write_idx(good, sample_array());
  auto bytes = read_bytes(good);
  bytes.push_back(1);
  const auto path = dir.file("long.idx");
  write_bytes(path, bytes);
  expect_error([&] { read_idx(path); }, {path, "beyond"});
}

TEST(IdxFile, WriteRefusesInconsistentArrays) {
  ecotta::testing::TempDir dir;
  IdxArray a = sample_array();
  a.data.pop_back();
  expect_error([&] { write_idx(dir.file("x.idx"), a); }, {"59"});
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.idx")));
}
