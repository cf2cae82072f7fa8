#include "image_set.h"

#include <opencv2/core/mat.hpp>

#include "data_error.h"

namespace ecotta::data {

cv::Mat ImageSet::image(size_t i) const {
  if (i >= size()) throw DataError("image index " + std::to_string(i) + " out of range (" + std::to_string(size()) + " images)");
  auto* p = const_cast<uint8_t*>(pixels.data() + i * image_bytes());
  return cv::Mat(height, width, CV_8UC(channels), p);
}

void ImageSet::push_back(const cv::Mat& img, uint8_t label) {
  if (img.rows != height || img.cols != width || img.channels() != channels || img.depth() != CV_8U)
    throw DataError("image of " + std::to_string(img.cols) + "x" + std::to_string(img.rows) + "x" +
                    std::to_string(img.channels()) + " does not fit a set of " + std::to_string(width) + "x" +
                    std::to_string(height) + "x" + std::to_string(channels) + " 8-bit images");
  const cv::Mat dense = img.isContinuous() ? img : img.clone();
  push_back(dense.data, label);
}

}  // namespace ecotta::data
