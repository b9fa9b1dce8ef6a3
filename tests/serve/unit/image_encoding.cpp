// SPDX-License-Identifier: Apache-2.0
#include "image_encoding.h"

#include <stb_image_write.h>

namespace mlflow::serve::testing {
namespace {

void append(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<std::size_t>(size));
}

}  // namespace

std::string encode_png(const RawImage& image) {
  std::string out;
  stbi_write_png_to_func(append, &out, image.width, image.height, image.channels,
                         image.pixels.data(), image.width * image.channels);
  return out;
}

std::string encode_jpeg(const RawImage& image, int quality) {
  std::string out;
  stbi_write_jpg_to_func(append, &out, image.width, image.height, image.channels,
                         image.pixels.data(), quality);
  return out;
}

}  // namespace mlflow::serve::testing
