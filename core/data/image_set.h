#pragma once
#include <cstdint>
#include <string>
#include <vector>


namespace cv {
class Mat;
}

namespace ecotta::data {

// A labelled set of equally sized 8-bit images stored contiguously
// (N x H x W x C, channels in RGB order), the form every tool and the
// benchmark consume.
struct ImageSet {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
  std::vector<uint8_t> labels;

  size_t size() const { return labels.size(); }
  size_t image_bytes() const { return size_t(height) * width * channels; }
  // A view of image i (no copy); valid while the set is alive and unchanged.
  // (OpenCV helpers, in image_set_cv.cpp: callers include OpenCV themselves,
  // so that the readers also build where OpenCV is absent.)
  cv::Mat image(size_t i) const;
  // Appends a copy of `img`, which must match the set's geometry.
  void push_back(const cv::Mat& img, uint8_t label);
  // Appends raw pixels of one image of the set's geometry.
  void push_back(const uint8_t* pixels_of_one_image, uint8_t label);
};

}  // namespace ecotta::data
