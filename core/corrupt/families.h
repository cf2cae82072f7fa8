#pragma once
#include <opencv2/core/mat.hpp>

#include "rng.h"

// The corruptions themselves, one function each. Every function takes a
// validated CV_8UC3 RGB image and a severity in 1..5 and returns a new
// CV_8UC3 image of the same size; randomness comes only from `rng`.
namespace ecotta::corrupt {

using CorruptionFn = cv::Mat (*)(const cv::Mat& rgb, int severity, Rng& rng);

// noise.cpp
cv::Mat gaussian_noise(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat shot_noise(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat impulse_noise(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat speckle_noise(const cv::Mat& rgb, int severity, Rng& rng);

// blur.cpp
cv::Mat defocus_blur(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat glass_blur(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat motion_blur(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat zoom_blur(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat gaussian_blur(const cv::Mat& rgb, int severity, Rng& rng);

// weather.cpp (frost's texture: frost_texture.cpp)
cv::Mat snow(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat frost(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat fog(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat spatter(const cv::Mat& rgb, int severity, Rng& rng);

// digital.cpp
cv::Mat brightness(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat contrast(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat saturate(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat elastic_transform(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat pixelate(const cv::Mat& rgb, int severity, Rng& rng);
cv::Mat jpeg_compression(const cv::Mat& rgb, int severity, Rng& rng);

// night.cpp
cv::Mat night(const cv::Mat& rgb, int severity, Rng& rng);

}  // namespace ecotta::corrupt
