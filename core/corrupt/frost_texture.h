#pragma once
#include <opencv2/core/mat.hpp>

#include "rng.h"

namespace ecotta::corrupt {

// A procedural stand-in for CIFAR-10-C's frost photographs: RGB CV_32FC3 in
// [0, 1], pale blue-white. A cloudy haze (two octaves of smooth value noise
// with a fine grain) carries needle-like ice dendrites with side branches at
// +-60 degrees (hexagonal ice) and a soft glow. Feature sizes are set on the
// 32-pixel reference and multiplied by size_scale(), so a 640x480 frame gets
// the same look as a 32x32 image, magnified. Deterministic in `rng`.
cv::Mat frost_texture(cv::Size size, Rng& rng);

}  // namespace ecotta::corrupt
