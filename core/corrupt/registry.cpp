// The public entry point: name lists, validation and dispatch.
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "corruption.h"
#include "families.h"

namespace ecotta::corrupt {
namespace {

const std::map<std::string, CorruptionFn>& table() {
  static const std::map<std::string, CorruptionFn> fns = {
      {"gaussian_noise", gaussian_noise},
      {"shot_noise", shot_noise},
      {"impulse_noise", impulse_noise},
      {"defocus_blur", defocus_blur},
      {"glass_blur", glass_blur},
      {"motion_blur", motion_blur},
      {"zoom_blur", zoom_blur},
      {"snow", snow},
      {"frost", frost},
      {"fog", fog},
      {"brightness", brightness},
      {"contrast", contrast},
      {"elastic_transform", elastic_transform},
      {"pixelate", pixelate},
      {"jpeg_compression", jpeg_compression},
      {"speckle_noise", speckle_noise},
      {"gaussian_blur", gaussian_blur},
      {"saturate", saturate},
      {"spatter", spatter},
      {"night", night},
  };
  return fns;
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

void validate(const std::string& name, int severity, const cv::Mat& rgb) {
  if (!is_corruption(name))
    throw std::invalid_argument("unknown corruption '" + name +
                                "' (expected clean or one of: " + join(all_corruptions()) + ")");
  if (severity < 1 || severity > 5)
    throw std::invalid_argument("corruption '" + name + "': severity " + std::to_string(severity) +
                                " is out of range (expected 1..5)");
  if (rgb.type() != CV_8UC3)
    throw std::invalid_argument("corruption '" + name + "': image type " + cv::typeToString(rgb.type()) +
                                " is not supported (expected CV_8UC3, 8-bit RGB)");
  if (rgb.empty()) throw std::invalid_argument("corruption '" + name + "': the image is empty");
}

}  // namespace

cv::Mat apply(const std::string& name, int severity, const cv::Mat& rgb, uint64_t seed) {
  validate(name, severity, rgb);
  if (name == "clean") return rgb.clone();
  Rng rng(seed);
  return table().at(name)(rgb, severity, rng);
}

const std::vector<std::string>& standard_corruptions() {
  static const std::vector<std::string> names = {
      "gaussian_noise",    "shot_noise", "impulse_noise",   "defocus_blur", "glass_blur", "motion_blur",
      "zoom_blur",         "snow",       "frost",           "fog",          "brightness", "contrast",
      "elastic_transform", "pixelate",   "jpeg_compression"};
  return names;
}

const std::vector<std::string>& extra_corruptions() {
  static const std::vector<std::string> names = {"speckle_noise", "gaussian_blur", "saturate", "spatter", "night"};
  return names;
}

const std::vector<std::string>& all_corruptions() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all = standard_corruptions();
    all.insert(all.end(), extra_corruptions().begin(), extra_corruptions().end());
    return all;
  }();
  return names;
}

bool is_corruption(const std::string& name) { return name == "clean" || table().count(name) > 0; }

}  // namespace ecotta::corrupt
