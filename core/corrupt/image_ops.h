#pragma once
#include <opencv2/core/mat.hpp>

namespace ecotta::corrupt {

// Float images in [0, 1], the working form of every corruption.
cv::Mat to_unit_float(const cv::Mat& rgb8);  // CV_8UC3 -> CV_32FC3 / 255
cv::Mat to_rgb8(const cv::Mat& unit);        // clips to [0, 1], scales by 255 and rounds

// Size scaling. CIFAR-10-C parameters are pixel counts for a 32x32 image; an
// image of another size is treated as that 32x32 reference magnified by
// size_scale() = (shorter side) / 32, so spatial parameters (blur radii,
// displacements, block and texture sizes) are multiplied by it. Per-pixel
// noise never scales.
double size_scale(cv::Size image);
// The reference grid the image magnifies: ~32 pixels on the shorter side.
// Random textures (snow, fog, spatter, elastic fields) are drawn on it.
cv::Size reference_size(cv::Size image);
// Resizes a reference-grid layer to the image size (bilinear); a no-op at 32x32.
cv::Mat to_image_size(const cv::Mat& layer, cv::Size image);

// skimage.filters.gaussian / scipy.ndimage.gaussian_filter: kernel radius
// int(truncate * sigma + 0.5), so tiny sigmas leave the image unchanged.
cv::Mat gaussian_filter(const cv::Mat& img, double sigma, int border, double truncate = 4.0);

// ImageMagick's MotionBlurImage: a one-sided half-Gaussian line kernel of
// 2 * ceil(radius) + 1 taps along `angle_deg`, edge pixels replicated.
cv::Mat line_motion_blur(const cv::Mat& img, double radius, double sigma, double angle_deg);

}  // namespace ecotta::corrupt
