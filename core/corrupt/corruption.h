#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace ecotta::corrupt {

// Applies corruption `name` at `severity` (1..5) to an 8-bit RGB image
// (CV_8UC3, any size) and returns a new image of the same size and type.
// Deterministic: the same (name, severity, image, seed) gives the same bytes.
// Parameters follow CIFAR-10-C for 32x32 inputs (../shared/docs/corruptions.md)
// and scale with image size where the original's do. "clean" returns a copy.
// Throws std::invalid_argument for an unknown name, a severity outside 1..5
// or an image that is not CV_8UC3.
cv::Mat apply(const std::string& name, int severity, const cv::Mat& rgb, uint64_t seed);

// The 15 corruptions of the standard continual benchmark, in its order.
const std::vector<std::string>& standard_corruptions();

// The held-out and extra conditions: speckle_noise, gaussian_blur, saturate,
// spatter, and night (dark + sensor noise, for segmentation and video).
const std::vector<std::string>& extra_corruptions();

// standard_corruptions() followed by extra_corruptions().
const std::vector<std::string>& all_corruptions();

bool is_corruption(const std::string& name);  // true for every listed name and "clean"

}  // namespace ecotta::corrupt
