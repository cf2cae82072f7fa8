// `ecotta corrupt`: a corrupted copy of a Fashion-MNIST split, as the 32x32
// RGB model inputs, in IDX files any tool (or numpy) can read.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

#include <opencv2/core.hpp>

#include "commands.h"
#include "corrupt/corruption.h"
#include "data/fashion_mnist.h"
#include "data/idx_file.h"
#include "task_data.h"
#include "util/progress_bar.h"

namespace ecotta::tools {
namespace {

struct CorruptOptions {
  bool list = false;
  std::string split;
  std::string corruption;
  int severity = 0;  // 0 = not given
  uint64_t seed = 0;
  size_t limit = 0;
  std::string out;
  std::string data_dir;
};

std::string valid_names() {
  std::string names = "clean";
  for (const auto& n : corrupt::all_corruptions()) names += ", " + n;
  return names;
}

void check_options(const CorruptOptions& o) {
  std::string missing;
  if (o.split.empty()) missing += " --split";
  if (o.corruption.empty()) missing += " --corruption";
  if (o.severity == 0 && o.corruption != "clean") missing += " --severity";
  if (o.out.empty()) missing += " --out";
  if (!missing.empty())
    throw std::invalid_argument("corrupt: missing" + missing + " (needed unless --list is given; see `ecotta corrupt --help`)");
  const std::filesystem::path prefix(o.out);
  if (prefix.has_parent_path() && !std::filesystem::is_directory(prefix.parent_path()))
    throw std::invalid_argument("corrupt: the folder '" + prefix.parent_path().string() + "' of --out does not exist");
  if (o.split != "train" && o.split != "test")
    throw std::invalid_argument("corrupt: unknown split '" + o.split + "' (expected train or test)");
  if (!corrupt::is_corruption(o.corruption))
    throw std::invalid_argument("corrupt: unknown corruption '" + o.corruption + "' (expected one of: " + valid_names() +
                                ")");
  if ((o.corruption != "clean" || o.severity != 0) && (o.severity < 1 || o.severity > 5))
    throw std::invalid_argument("corrupt: severity " + std::to_string(o.severity) + " is out of range (expected 1..5)");
}

void run_corrupt(const CorruptOptions& o) {
  if (o.list) {
    for (const auto& name : corrupt::all_corruptions()) std::printf("%s\n", name.c_str());
    return;
  }
  check_options(o);
  const auto start = std::chrono::steady_clock::now();
  const std::string dir = o.data_dir.empty() ? data::default_data_dir() : o.data_dir;
  const data::ImageSet inputs = data::to_model_input(data::load_fashion_mnist(dir, data::parse_split(o.split), o.limit));
  const size_t n = inputs.size();
  const int severity = o.corruption == "clean" ? 1 : o.severity;

  data::IdxArray images;
  images.dims = {static_cast<uint32_t>(n), static_cast<uint32_t>(inputs.height), static_cast<uint32_t>(inputs.width),
                 static_cast<uint32_t>(inputs.channels)};
  images.data.resize(n * inputs.image_bytes());
  // Samples are independent (each has its own seed), so chunks are corrupted
  // in parallel; the bar advances between chunks.
  util::ProgressBar bar("corrupt " + o.corruption, n);
  constexpr size_t kChunk = 512;
  for (size_t begin = 0; begin < n; begin += kChunk) {
    const size_t end = std::min(n, begin + kChunk);
    cv::parallel_for_(cv::Range(static_cast<int>(begin), static_cast<int>(end)), [&](const cv::Range& r) {
      for (int i = r.start; i < r.end; ++i) {
        const size_t idx = static_cast<size_t>(i);
        const cv::Mat out = corrupt::apply(o.corruption, severity, inputs.image(idx), sample_seed(o.seed, idx));
        cv::Mat dst(inputs.height, inputs.width, CV_8UC3, images.data.data() + idx * inputs.image_bytes());
        out.copyTo(dst);
      }
    });
    if (end < n) bar.update(end);
  }
  bar.finish();

  data::IdxArray labels;
  labels.dims = {static_cast<uint32_t>(n)};
  labels.data = inputs.labels;
  const std::string images_path = o.out + "-images.idx", labels_path = o.out + "-labels.idx";
  data::write_idx(images_path, images);
  data::write_idx(labels_path, labels);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string what = o.corruption == "clean" ? "clean" : o.corruption + " severity " + std::to_string(o.severity);
  std::fprintf(stderr, "wrote %zu %s images (%s, seed %llu) to %s and %s in %.2f s\n", n, o.split.c_str(), what.c_str(),
               static_cast<unsigned long long>(o.seed), images_path.c_str(), labels_path.c_str(), seconds);
}

}  // namespace

void add_corrupt_command(CLI::App& app) {
  static CorruptOptions o;
  auto* cmd = app.add_subcommand(
      "corrupt",
      "Write a corrupted Fashion-MNIST split as 32x32 RGB model inputs: PREFIX-images.idx (uint8, N x 32 x 32 x 3) "
      "and PREFIX-labels.idx (uint8, N)");
  cmd->add_flag("--list", o.list, "Print the corruption names, one per line, and exit");
  cmd->add_option("--split", o.split, "train or test (required)");
  cmd->add_option("--corruption", o.corruption, "Corruption name (see --list), or clean (required)");
  cmd->add_option("--severity", o.severity, "Severity 1..5 (required, except for clean)");
  cmd->add_option("--seed", o.seed,
                  "Seed; sample i is corrupted with a seed derived from (seed, i), so the output does not depend on "
                  "--limit")
      ->capture_default_str();
  cmd->add_option("--limit", o.limit, "Only the first M samples of the split (0 = all)")->capture_default_str();
  cmd->add_option("--out", o.out, "Output prefix: writes PREFIX-images.idx and PREFIX-labels.idx (required)");
  cmd->add_option("--data-dir", o.data_dir, "Fashion-MNIST folder (default: $ECOTTA_DATA_DIR or Debian's)");
  cmd->callback([] { run_corrupt(o); });
}

}  // namespace ecotta::tools
