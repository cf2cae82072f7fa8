// `ecotta preview`: a contact sheet of the corruptions, one row per
// condition and one column per severity, to see what the models are up against.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "commands.h"
#include "corrupt/corruption.h"
#include "data/continual_stream.h"
#include "data/fashion_mnist.h"
#include "data/fashion_scenes.h"
#include "task_data.h"

namespace ecotta::tools {
namespace {

struct PreviewOptions {
  std::string task = "classify";
  std::string corruptions;  // empty: every corruption (classify) or the segmentation conditions (segment)
  int samples = 3;
  uint64_t seed = 0;
  int scale = 3;
  std::string out;
  std::string data_dir;
};

// The conditions of the segmentation benchmarks (EcoTTA's four plus ACDC's night).
const std::vector<std::string> kSegmentConditions = {"brightness", "fog", "frost", "snow", "night"};

// Label colours (RGB) for label maps: class c + 1 gets kLabelColours[c].
constexpr std::array<std::array<uint8_t, 3>, 10> kLabelColours = {{{230, 25, 75},
                                                                   {60, 180, 75},
                                                                   {255, 225, 25},
                                                                   {0, 130, 200},
                                                                   {245, 130, 48},
                                                                   {145, 30, 180},
                                                                   {70, 240, 240},
                                                                   {240, 50, 230},
                                                                   {210, 245, 60},
                                                                   {250, 190, 212}}};

const cv::Scalar kPaper(246, 246, 244);
const cv::Scalar kInk(40, 40, 40);
const cv::Scalar kFaint(150, 150, 150);
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

// The images a sheet shows: K clean samples, and for segmentation their label maps.
struct Samples {
  std::vector<cv::Mat> images;  // CV_8UC3, RGB
  std::vector<cv::Mat> labels;  // CV_8UC1 (segmentation only)
  std::vector<size_t> index;    // in the split (classify) or the scene set (segment): picks the corruption seed
  std::string description;
};

// K test items of pairwise different classes, starting at a seeded position.
Samples classify_samples(const PreviewOptions& o, const std::string& dir) {
  const data::ImageSet inputs = data::to_model_input(data::load_fashion_mnist(dir, data::Split::Test));
  Samples s;
  std::vector<bool> taken(data::fashion_mnist_classes().size(), false);
  std::string indices;
  const size_t start = sample_seed(o.seed, 0) % inputs.size();
  for (size_t k = 0; k < inputs.size() && static_cast<int>(s.images.size()) < o.samples; ++k) {
    const size_t i = (start + k) % inputs.size();
    if (taken[inputs.labels[i]]) continue;
    taken[inputs.labels[i]] = true;
    s.images.push_back(inputs.image(i).clone());
    s.index.push_back(i);
    indices += (indices.empty() ? "" : ", ") + std::to_string(i);
  }
  s.description = "Fashion-MNIST test items " + indices + " as 32x32 model inputs";
  return s;
}

Samples segment_samples(const PreviewOptions& o, const std::string& dir) {
  const data::ImageSet items = data::load_fashion_mnist(dir, data::Split::Test);
  const data::SceneSet scenes = data::make_scenes(items, static_cast<size_t>(o.samples), data::SceneOptions{}, o.seed);
  Samples s;
  for (size_t i = 0; i < scenes.images.size(); ++i) {
    s.images.push_back(scenes.images.image(i).clone());
    s.labels.push_back(scenes.label_maps.image(i).clone());
    s.index.push_back(i);
  }
  s.description = "fashion scenes (64x64) from Fashion-MNIST test items, scene seed " + std::to_string(o.seed);
  return s;
}

// The clean image with labelled pixels tinted in their class colour.
cv::Mat label_overlay(const cv::Mat& rgb, const cv::Mat& labels) {
  cv::Mat out = rgb.clone();
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x) {
      const uint8_t l = labels.at<uint8_t>(y, x);
      if (l == 0) continue;
      cv::Vec3b& px = out.at<cv::Vec3b>(y, x);
      for (int k = 0; k < 3; ++k) px[k] = static_cast<uint8_t>(0.3 * px[k] + 0.7 * kLabelColours[l - 1][k]);
    }
  return out;
}

std::vector<std::string> rows_for(const PreviewOptions& o) {
  std::vector<std::string> rows;
  if (o.corruptions.empty())
    rows = o.task == "segment" ? kSegmentConditions : corrupt::all_corruptions();
  else if (o.corruptions == "all")
    rows = corrupt::all_corruptions();
  else
    rows = data::parse_domains(o.corruptions);  // validates; "standard" works too
  for (const std::string& r : rows)
    if (r.rfind("file:", 0) == 0) throw std::invalid_argument("preview: '" + r + "' is not a corruption name");
  rows.erase(std::remove(rows.begin(), rows.end(), std::string("clean")), rows.end());
  rows.insert(rows.begin(), "clean");
  return rows;
}

void put_text(cv::Mat& sheet, const std::string& text, cv::Point origin, double font_scale, const cv::Scalar& colour) {
  cv::putText(sheet, text, origin, kFont, font_scale, colour, 1, cv::LINE_AA);
}

// Sheet geometry, in output pixels.
struct Layout {
  int tile = 0;        // one upscaled sample
  int pad = 4;         // between samples of a cell
  int gap = 14;        // between cells
  int margin = 12;
  int label_width = 0; // row-name column
  int title_height = 0;
  int header_height = 0;
  int cell_width = 0;
  int columns = 5;
  double font_scale = 0.5;
  int line_height = 0;

  cv::Point cell(int row, int column) const {
    return {margin + label_width + column * (cell_width + gap), margin + title_height + header_height + row * (tile + gap)};
  }
};

void run_preview(const PreviewOptions& o) {
  if (o.out.empty()) throw std::invalid_argument("preview: --out is required (a .png file)");
  if (o.task != "classify" && o.task != "segment")
    throw std::invalid_argument("preview: unknown task '" + o.task + "' (expected classify or segment)");
  const std::filesystem::path out_path(o.out);
  if (out_path.has_parent_path() && !std::filesystem::is_directory(out_path.parent_path()))
    throw std::invalid_argument("preview: folder '" + out_path.parent_path().string() + "' of --out does not exist");
  const std::vector<std::string> rows = rows_for(o);
  const std::string dir = o.data_dir.empty() ? data::default_data_dir() : o.data_dir;
  const bool segment = o.task == "segment";
  const Samples samples = segment ? segment_samples(o, dir) : classify_samples(o, dir);
  const int k = static_cast<int>(samples.images.size());
  const int side = samples.images.front().rows;

  Layout L;
  L.tile = side * o.scale;
  L.font_scale = L.tile >= 64 ? 0.5 : 0.4;
  int baseline = 0;
  L.line_height = cv::getTextSize("Hg", kFont, L.font_scale, 1, &baseline).height + baseline + 6;
  for (const std::string& r : rows)
    L.label_width = std::max(L.label_width, cv::getTextSize(r, kFont, L.font_scale, 1, &baseline).width);
  L.label_width += L.gap;
  L.title_height = 2 * L.line_height;
  L.header_height = L.line_height + 4;
  L.cell_width = k * L.tile + (k - 1) * L.pad;
  L.columns = segment ? 6 : 5;
  const int legend_height = segment ? 2 * L.line_height + L.gap : 0;
  const int width = std::max(2 * L.margin + L.label_width + L.columns * L.cell_width + (L.columns - 1) * L.gap, 480);
  const int height = 2 * L.margin + L.title_height + L.header_height + static_cast<int>(rows.size()) * (L.tile + L.gap) +
                     legend_height;
  cv::Mat sheet(height, width, CV_8UC3, kPaper);

  put_text(sheet, "ecotta preview: rows = condition, columns = severity", {L.margin, L.margin + L.line_height - 6},
           L.font_scale, kInk);
  put_text(sheet, samples.description + ", corruption seed " + std::to_string(o.seed),
           {L.margin, L.margin + 2 * L.line_height - 6}, L.font_scale * 0.9, kFaint);
  for (int c = 0; c < L.columns; ++c) {
    const std::string header = c < 5 ? "severity " + std::to_string(c + 1) : "label map";
    const cv::Point at = L.cell(0, c);
    put_text(sheet, header, {at.x, at.y - 8}, L.font_scale, kInk);
  }

  cv::Mat big;
  const auto draw = [&](const cv::Mat& rgb, int row, int column, int sample) {
    cv::resize(rgb, big, cv::Size(), o.scale, o.scale, cv::INTER_NEAREST);
    const cv::Point at = L.cell(row, column) + cv::Point(sample * (L.tile + L.pad), 0);
    big.copyTo(sheet(cv::Rect(at, big.size())));
  };
  for (size_t r = 0; r < rows.size(); ++r) {
    const int row = static_cast<int>(r);
    const cv::Point at = L.cell(row, 0);
    put_text(sheet, rows[r], {L.margin, at.y + L.tile / 2 + 5}, L.font_scale, kInk);
    for (int i = 0; i < k; ++i) {
      const cv::Mat& image = samples.images[static_cast<size_t>(i)];
      if (rows[r] == "clean") {
        draw(image, row, 0, i);
        if (segment) draw(label_overlay(image, samples.labels[static_cast<size_t>(i)]), row, 5, i);
        continue;
      }
      for (int severity = 1; severity <= 5; ++severity)
        draw(corrupt::apply(rows[r], severity, image, sample_seed(o.seed, samples.index[static_cast<size_t>(i)])), row, severity - 1, i);
    }
  }

  if (segment) {  // legend: one swatch per class
    int x = L.margin;
    int y = height - L.margin - legend_height + L.gap;
    const int swatch = L.line_height - 6;
    for (size_t c = 0; c < kLabelColours.size(); ++c) {
      const std::string name = data::fashion_mnist_classes()[c];
      const int w = swatch + 6 + cv::getTextSize(name, kFont, L.font_scale, 1, &baseline).width + 18;
      if (x + w > width - L.margin) {
        x = L.margin;
        y += L.line_height;
      }
      const auto& colour = kLabelColours[c];
      cv::rectangle(sheet, cv::Rect(x, y, swatch, swatch), cv::Scalar(colour[0], colour[1], colour[2]), cv::FILLED);
      put_text(sheet, name, {x + swatch + 6, y + swatch - 2}, L.font_scale, kInk);
      x += w;
    }
  }

  cv::Mat bgr;
  cv::cvtColor(sheet, bgr, cv::COLOR_RGB2BGR);
  bool written = false;
  try {
    written = cv::imwrite(o.out, bgr, {cv::IMWRITE_PNG_COMPRESSION, 9});
  } catch (const cv::Exception& e) {
    throw std::runtime_error("preview: could not write '" + o.out + "': " + e.what());
  }
  if (!written) throw std::runtime_error("preview: could not write '" + o.out + "' (use a writable .png path)");
  std::fprintf(stderr, "wrote %s (%dx%d): %zu conditions x 5 severities, %d samples each\n", o.out.c_str(), width,
               height, rows.size() - 1, k);
}

}  // namespace

void add_preview_command(CLI::App& app) {
  static PreviewOptions o;
  auto* cmd = app.add_subcommand(
      "preview",
      "Render a PNG contact sheet of the corruptions: a clean row, then one row per corruption, columns = severity 1..5");
  cmd->add_option("--task", o.task,
                  "classify (Fashion-MNIST inputs, 32x32) or segment (fashion scenes, 64x64, with a label-map column)")
      ->capture_default_str();
  cmd->add_option("--corruptions", o.corruptions,
                  "Comma list of corruption names, 'standard' or 'all' (default: all for classify; brightness, fog, "
                  "frost, snow, night for segment)");
  cmd->add_option("--samples", o.samples, "Samples side by side in each cell (classify: of different classes)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10));
  cmd->add_option("--seed", o.seed,
                  "Seed: picks the samples (scenes); test item i is corrupted exactly as `ecotta corrupt --split test "
                  "--seed N` corrupts it")
      ->capture_default_str();
  cmd->add_option("--scale", o.scale, "Upscaling factor (nearest neighbour)")->capture_default_str()->check(CLI::Range(1, 8));
  cmd->add_option("--out", o.out, "PNG file to write")->required();
  cmd->add_option("--data-dir", o.data_dir, "Fashion-MNIST folder (default: $ECOTTA_DATA_DIR or Debian's)");
  cmd->callback([] { run_preview(o); });
}

}  // namespace ecotta::tools
