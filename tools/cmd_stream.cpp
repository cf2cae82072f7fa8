// `ecotta stream`: a synthetic test video whose condition changes over time
// (clean -> fog -> night ...), with a per-frame ground-truth sidecar, to feed
// the GStreamer element and measure it.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include "commands.h"
#include "corrupt/condition_schedule.h"
#include "corrupt/corruption.h"
#include "data/atomic_file.h"
#include "data/fashion_mnist.h"
#include "data/fashion_scenes.h"
#include "task_data.h"
#include "util/progress_bar.h"

namespace ecotta::tools {
namespace {

namespace fs = std::filesystem;

constexpr double kPi = 3.14159265358979323846;

// Tags that keep the seeds of the video's random choices apart from the
// per-frame corruption seeds (sample_seed(seed, frame)).
constexpr uint64_t kTagBackground = 0x6261636bULL;  // "back"
constexpr uint64_t kTagItem = 0x6974656dULL;        // "item"
constexpr uint64_t kTagSlot = 0x736c6f74ULL;        // "slot"
constexpr uint64_t kTagNoise = 0x6e6f6973ULL;       // "nois"

// Default frame sizes: a 4:3 camera for the classifier (the element crops its
// central square); square for the segmenter, which was trained on square
// scenes and sees the whole frame squashed to 64x64: at 640x480 its items are
// squeezed to 3/4 of their width, which cost 11 mIoU points (0.58 against 0.69).
struct FrameSize {
  int width, height;
};
constexpr FrameSize kClassifySize{640, 480};
constexpr FrameSize kSegmentSize{480, 480};

struct StreamOptions {
  std::string task = "classify";
  double duration = 0;
  std::string schedule = corrupt::kDefaultSchedule;
  uint64_t seed = 0;
  std::string out;
  std::string truth;
  int width = 0;   // 0: the task's default (kClassifySize, kSegmentSize)
  int height = 0;
  double item_seconds = 2.0;  // classify: how long each item stays
  double fps = 30;
  std::string data_dir;
  std::string split = "test";  // whose items: test (evaluation) or train (validating settings)
};

// A uniform number in [0, 1) from a 64-bit hash.
double unit(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }
uint64_t mix_seed(uint64_t seed, uint64_t tag, uint64_t a, uint64_t b = 0) {
  return sample_seed(sample_seed(seed ^ tag, a), b);
}

// A bright, saturated colour (RGB) picked by a hash.
cv::Vec3b bright_colour(uint64_t h) {
  cv::Mat hsv(1, 1, CV_8UC3,
              cv::Scalar(static_cast<int>(unit(h) * 180), 150 + static_cast<int>(unit(sample_seed(h, 1)) * 105),
                         225 + static_cast<int>(unit(sample_seed(h, 2)) * 30)));
  cv::Mat rgb;
  cv::cvtColor(hsv, rgb, cv::COLOR_HSV2RGB);
  return rgb.at<cv::Vec3b>(0, 0);
}

// A textured background larger than the frame, panned slowly. It is drawn
// at the fashion scenes' scale (64 pixels high) and magnified smoothly, so a
// frame shrunk to a model's input looks like the scenes the models know.
class PanningBackground {
 public:
  PanningBackground(int width, int height, uint64_t seed)
      : width_(width), height_(height), margin_(std::max(8, width / 16)) {
    const cv::Size size(width + 2 * margin_, height + 2 * margin_);
    const double shrink = std::max(1.0, height / 64.0);
    const cv::Mat small = data::make_background(std::max(2, static_cast<int>(std::lround(size.width / shrink))),
                                                std::max(2, static_cast<int>(std::lround(size.height / shrink))),
                                                sample_seed(seed, kTagBackground));
    cv::resize(small, canvas_, size, 0, 0, cv::INTER_CUBIC);
  }

  cv::Mat at(double t) const {
    const int x = margin_ + static_cast<int>(std::lround(margin_ * std::sin(2 * kPi * t / 17.0)));
    const int y = margin_ + static_cast<int>(std::lround(margin_ * 0.8 * std::sin(2 * kPi * t / 23.0 + 1.0)));
    return canvas_(cv::Rect(x, y, width_, height_));
  }

 private:
  int width_, height_, margin_;
  cv::Mat canvas_;
};

// What one frame shows, before the condition is applied.
struct Content {
  data::Scene scene;
  int label = -1;  // classification: the item's class
};

// Classification, in the classifier's world: one gray Fashion-MNIST test
// item on a black background. The element crops the frame's central
// min(width, height) square and shrinks it to the model's 32x32 input, so the
// item fills that square as a 28x28 item fills the 32x32 training view
// (2 black pixels each side), magnified smoothly. A camera's slow drift and
// zoom (a few percent of the square) and sensor shot noise keep it a video;
// a new item every `item_seconds`.
//
// Why black and shot noise: the classifier saw exactly 0 around its items,
// and it is that sensitive to the level there: lifting the background to 2
// (of 255) cost 7 points of accuracy one frame at a time, Gaussian noise of
// sigma 2.5 clipped at 0 (a mean of about 1 there) 2 points. Shot noise grows
// with the square root of the light, so black stays black, as on a sensor.
class ClassifyContent {
 public:
  static constexpr double kViewPixels = 32;   // the training view's side...
  static constexpr double kItemPixels = 28;   // ...and the item's in it
  static constexpr double kShotNoise = 0.25;  // sigma = kShotNoise * sqrt(level): 4 levels at white (luma)

  ClassifyContent(const data::ImageSet& items, int width, int height, double item_seconds, uint64_t seed)
      : items_(items), width_(width), height_(height), item_seconds_(item_seconds), seed_(seed) {}

  Content render(double t) const {
    const auto k = static_cast<uint64_t>(std::floor(t / item_seconds_));
    const size_t item = mix_seed(seed_, kTagItem, k) % items_.size();
    // Item x (0..28, pixel edges) lands on frame x = cx + (x - 14) * scale;
    // the matrix maps pixel centres (edge coordinate - 0.5).
    const double side = std::min(width_, height_);
    const double scale = side / kViewPixels * (1 + 0.03 * std::sin(2 * kPi * t / 5.3));
    const double cx = width_ / 2.0 + 0.025 * side * std::sin(2 * kPi * t / 7.3);
    const double cy = height_ / 2.0 + 0.02 * side * std::sin(2 * kPi * t / 6.1 + 1.0);
    const double shift = (0.5 - kItemPixels / 2) * scale - 0.5;
    const cv::Matx23d to_frame(scale, 0, cx + shift, 0, scale, cy + shift);
    cv::Mat view;
    cv::warpAffine(items_.image(item), view, to_frame, cv::Size(width_, height_), cv::INTER_CUBIC,
                   cv::BORDER_CONSTANT, 0);
    // Noise where there is light (the item's box), seeded by (seed, time):
    // the same frame gets the same noise in every run.
    const cv::Rect lit = cv::boundingRect(view);
    if (!lit.empty()) {
      cv::Mat light, sigma, noise(lit.size(), CV_32F);
      view(lit).convertTo(light, CV_32F);
      cv::sqrt(light, sigma);
      cv::RNG rng(mix_seed(seed_, kTagNoise, static_cast<uint64_t>(std::llround(t * 1e6))));
      rng.fill(noise, cv::RNG::NORMAL, 0.0, kShotNoise);
      light += noise.mul(sigma);
      light.convertTo(view(lit), CV_8U);  // rounds and clips to 0..255
    }
    Content c;
    cv::cvtColor(view, c.scene.image, cv::COLOR_GRAY2RGB);
    c.label = items_.labels[item];
    return c;
  }

 private:
  const data::ImageSet& items_;
  int width_, height_;
  double item_seconds_;
  uint64_t seed_;
};

// Segmentation: a few items gliding across the frame on lanes, bobbing; an
// item that leaves on one side comes back on the other as a new item.
class SegmentContent {
 public:
  static constexpr int kSlots = 4;

  SegmentContent(const data::ImageSet& items, int width, int height, uint64_t seed)
      : items_(items), width_(width), height_(height), seed_(seed), background_(width, height, seed) {
    for (int j = 0; j < kSlots; ++j) {
      Slot& s = slots_[static_cast<size_t>(j)];
      const auto r = [&](uint64_t n) { return unit(mix_seed(seed, kTagSlot, static_cast<uint64_t>(j), n)); };
      s.size = height * (0.3 + 0.15 * r(0));
      s.lane = height * (0.15 + 0.7 * (j + 0.2 + 0.6 * r(1)) / kSlots);
      s.speed = width * (0.06 + 0.08 * r(2)) * (j % 2 ? -1 : 1);
      s.start = (width + s.size) * r(3);
      s.bob_period = 1.5 + 2.0 * r(4);
      s.bob_phase = 2 * kPi * r(5);
    }
  }

  Content render(double t) const {
    std::vector<data::Placement> placements;
    for (int j = 0; j < kSlots; ++j) {
      const Slot& s = slots_[static_cast<size_t>(j)];
      const double span = width_ + s.size;
      const double pos = s.start + s.speed * t;
      const double wraps = std::floor(pos / span);
      const auto visit = static_cast<uint64_t>(static_cast<int64_t>(wraps));
      data::Placement p;
      p.item = mix_seed(seed_, kTagItem, static_cast<uint64_t>(j), visit) % items_.size();
      p.color = bright_colour(mix_seed(seed_, kTagItem + 1, static_cast<uint64_t>(j), visit));
      p.size = static_cast<float>(s.size);
      p.center.x = static_cast<float>(pos - wraps * span - s.size / 2);
      p.center.y = static_cast<float>(s.lane + 0.05 * height_ * std::sin(2 * kPi * t / s.bob_period + s.bob_phase));
      placements.push_back(p);
    }
    Content c;
    c.scene = data::compose_scene(items_, placements, background_.at(t));
    return c;
  }

 private:
  struct Slot {
    double size = 0, lane = 0, speed = 0, start = 0, bob_period = 1, bob_phase = 0;
  };
  const data::ImageSet& items_;
  int width_, height_;
  uint64_t seed_;
  PanningBackground background_;
  std::array<Slot, kSlots> slots_;
};

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return ext;
}

void check_folder_of(const fs::path& p, const std::string& option) {
  if (p.has_parent_path() && !fs::is_directory(p.parent_path()))
    throw std::invalid_argument("stream: the folder '" + p.parent_path().string() + "' of " + option + " does not exist");
}

void check_options(const StreamOptions& o) {
  if (o.task != "classify" && o.task != "segment")
    throw std::invalid_argument("stream: unknown task '" + o.task + "' (expected classify or segment)");
  if (!(o.duration > 0) || !std::isfinite(o.duration))
    throw std::invalid_argument("stream: --duration must be a positive number of seconds");
  if (!(o.item_seconds > 0) || !std::isfinite(o.item_seconds))
    throw std::invalid_argument("stream: --item-seconds must be a positive number of seconds");
  if (lower_extension(o.out) != ".avi")
    throw std::invalid_argument("stream: cannot write '" + o.out +
                                "': only .avi (Motion-JPEG in AVI, which GStreamer's avidemux ! jpegdec and OpenCV "
                                "read) is supported; name the output *.avi");
  check_folder_of(o.out, "--out");
  check_folder_of(o.truth, "--truth");
  if (fs::path(o.truth).filename().empty()) throw std::invalid_argument("stream: --truth must name a file");
}

// Removes the temporary video unless released (the command failed half-way).
class TempFileGuard {
 public:
  explicit TempFileGuard(std::string path) : path_(std::move(path)) {}
  ~TempFileGuard() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove(path_, ec);
    }
  }
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;
  void release() { path_.clear(); }

 private:
  std::string path_;
};

void run_stream(StreamOptions o) {
  const FrameSize size_default = o.task == "segment" ? kSegmentSize : kClassifySize;
  if (o.width == 0) o.width = size_default.width;
  if (o.height == 0) o.height = size_default.height;
  check_options(o);
  const corrupt::ConditionSchedule schedule = corrupt::ConditionSchedule::parse(o.schedule);
  const bool segment = o.task == "segment";
  const auto frames = static_cast<size_t>(std::llround(o.duration * o.fps));
  if (frames == 0) throw std::invalid_argument("stream: --duration * --fps gives no frame");
  const auto start = std::chrono::steady_clock::now();

  const std::string dir = o.data_dir.empty() ? data::default_data_dir() : o.data_dir;
  const data::ImageSet items = data::load_fashion_mnist(dir, o.split == "train" ? data::Split::Train : data::Split::Test);
  std::function<Content(double)> render;
  if (segment)
    render = [content = std::make_shared<SegmentContent>(items, o.width, o.height, o.seed)](double t) {
      return content->render(t);
    };
  else
    render = [content = std::make_shared<ClassifyContent>(items, o.width, o.height, o.item_seconds, o.seed)](double t) {
      return content->render(t);
    };

  // Label maps go to a folder next to the truth file: TRUTH.jsonl -> TRUTH_labels/.
  const fs::path truth_path(o.truth);
  const fs::path labels_dir = truth_path.parent_path() / (truth_path.stem().string() + "_labels");
  if (segment) {
    fs::create_directories(labels_dir);
    for (const auto& entry : fs::directory_iterator(labels_dir)) {  // frames of an earlier run
      const std::string name = entry.path().filename().string();
      if (name.rfind("frame_", 0) == 0 && entry.path().extension() == ".png") fs::remove(entry.path());
    }
  }
  const auto label_png = [&](size_t frame) {
    char name[32];
    std::snprintf(name, sizeof name, "frame_%06zu.png", frame);
    return fs::absolute(labels_dir / name).lexically_normal().string();
  };

  const fs::path out_path(o.out);
  const std::string temp =
      (out_path.parent_path() / ("." + out_path.stem().string() + ".partial.avi")).string();
  TempFileGuard guard(temp);
  cv::VideoWriter writer;
  const cv::Size size(o.width, o.height);
  const int fourcc = cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
  writer.open(temp, cv::CAP_OPENCV_MJPEG, fourcc, o.fps, size, {cv::VIDEOWRITER_PROP_QUALITY, 90});
  if (!writer.isOpened()) writer.open(temp, cv::CAP_ANY, fourcc, o.fps, size);
  if (!writer.isOpened())
    throw std::runtime_error("stream: OpenCV could not open a Motion-JPEG AVI writer for '" + temp + "'");

  std::fprintf(stderr, "stream: %s, %zu frames of %dx%d at %g fps, schedule '%s' (%g s, repeated)\n", o.task.c_str(),
               frames, o.width, o.height, o.fps, o.schedule.c_str(), schedule.period());
  std::string truth;
  util::ProgressBar bar("stream " + o.task, frames);
  // Frames are independent (time and frame index fix everything), so a chunk
  // is rendered in parallel and then written in order.
  const size_t chunk = static_cast<size_t>(std::max(4, 2 * cv::getNumThreads()));
  std::vector<cv::Mat> bgr(chunk);
  std::vector<corrupt::Condition> conditions(chunk);
  std::vector<int> labels(chunk);
  for (size_t begin = 0; begin < frames; begin += chunk) {
    const size_t end = std::min(frames, begin + chunk);
    cv::parallel_for_(cv::Range(0, static_cast<int>(end - begin)), [&](const cv::Range& r) {
      for (int j = r.start; j < r.end; ++j) {
        const size_t frame = begin + static_cast<size_t>(j);
        const double t = static_cast<double>(frame) / o.fps;
        const corrupt::Condition cond = schedule.at(t);
        const Content content = render(t);
        const cv::Mat shown =
            cond.name == "clean" ? content.scene.image : corrupt::apply(cond.name, cond.severity, content.scene.image,
                                                                        sample_seed(o.seed, frame));
        cv::cvtColor(shown, bgr[static_cast<size_t>(j)], cv::COLOR_RGB2BGR);
        conditions[static_cast<size_t>(j)] = cond;
        labels[static_cast<size_t>(j)] = content.label;
        if (segment && !cv::imwrite(label_png(frame), content.scene.labels))
          throw std::runtime_error("stream: could not write '" + label_png(frame) + "'");
      }
    });
    for (size_t frame = begin; frame < end; ++frame) {
      const size_t j = frame - begin;
      writer.write(bgr[j]);
      nlohmann::ordered_json line;
      line["frame"] = frame;
      line["pts"] = static_cast<double>(frame) / o.fps;
      if (segment) {
        line["labels_png"] = label_png(frame);
      } else {
        line["label"] = labels[j];
        line["class"] = data::fashion_mnist_classes()[static_cast<size_t>(labels[j])];
      }
      line["condition"] = conditions[j].name;
      line["severity"] = conditions[j].severity;
      truth += line.dump() + "\n";
    }
    if (end < frames) bar.update(end, conditions[end - begin - 1].name);
  }
  writer.release();
  bar.finish();
  std::error_code ec;
  fs::rename(temp, o.out, ec);
  if (ec) throw std::runtime_error("stream: could not move '" + temp + "' to '" + o.out + "': " + ec.message());
  guard.release();
  data::write_file_atomically(o.truth, truth.data(), truth.size());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "wrote %s (%zu frames, %.1f s of video) and %s%s in %.1f s\n", o.out.c_str(), frames,
               static_cast<double>(frames) / o.fps, o.truth.c_str(),
               segment ? (" with label maps in " + labels_dir.string() + "/").c_str() : "", seconds);
}

}  // namespace

void add_stream_command(CLI::App& app) {
  static StreamOptions o;
  auto* cmd = app.add_subcommand(
      "stream",
      "Write a test video (Motion-JPEG AVI) whose condition changes over time, and a JSON-lines ground-truth file "
      "(one line per frame)");
  cmd->footer(
      "Schedule syntax (--schedule): a comma list of condition[@severity|@from-to]:seconds\n"
      "  condition  clean, or a corruption name from `ecotta corrupt --list`\n"
      "  @3         severity 3 (default: 5; clean takes none)\n"
      "  @1-5       a ramp: the severity steps 1,2,3,4,5 evenly over the entry's time (5-1 steps down)\n"
      "  :seconds   how long the entry lasts; may be fractional\n"
      "The schedule repeats when --duration is longer. Example:\n"
      "  ecotta stream --duration 20 --schedule clean:3,fog@1-5:5,night@4:3,snow@5:4 --out v.avi --truth v.jsonl\n"
      "Truth lines: classify {frame, pts, label, class, condition, severity};\n"
      "segment {frame, pts, labels_png (absolute path of an 8-bit PNG, values 0..10), condition, severity}.\n"
      "severity is 0 for clean. Label maps go to TRUTH_labels/ next to the truth file.");
  cmd->add_option("--task", o.task,
                  "classify (one Fashion-MNIST item at a time) or segment (fashion scenes with label maps)")
      ->capture_default_str();
  cmd->add_option("--duration", o.duration, "Video length in seconds")->required();
  cmd->add_option("--schedule", o.schedule, "Condition schedule (syntax below)")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed for the content and the per-frame corruptions")->capture_default_str();
  cmd->add_option("--out", o.out, "Video file to write (.avi: Motion-JPEG)")->required();
  cmd->add_option("--truth", o.truth, "Ground-truth JSON-lines file to write")->required();
  cmd->add_option("--width", o.width, "Frame width (default: 640 for classify, 480 for segment)")
      ->check(CLI::Range(64, 4096));
  cmd->add_option("--height", o.height, "Frame height (default: 480)")->check(CLI::Range(64, 4096));
  cmd->add_option("--item-seconds", o.item_seconds, "classify: seconds each item stays in view")
      ->capture_default_str();
  cmd->add_option("--fps", o.fps, "Frames per second")->capture_default_str()->check(CLI::Range(1.0, 240.0));
  cmd->add_option("--data-dir", o.data_dir, "Fashion-MNIST folder (default: $ECOTTA_DATA_DIR or Debian's)");
  cmd->add_option("--split", o.split, "Whose items the video shows: test, or train to validate settings without "
                                      "touching test images")
      ->capture_default_str()->check(CLI::IsMember({"test", "train"}));
  cmd->callback([] { run_stream(o); });
}

}  // namespace ecotta::tools
