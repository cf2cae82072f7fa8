#include "image_set.h"

namespace ecotta::data {

void ImageSet::push_back(const uint8_t* pixels_of_one_image, uint8_t label) {
  pixels.insert(pixels.end(), pixels_of_one_image, pixels_of_one_image + image_bytes());
  labels.push_back(label);
}

}  // namespace ecotta::data
