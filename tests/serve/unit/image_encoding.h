// SPDX-License-Identifier: Apache-2.0
// Test images encoded in memory with stb_image_write (Debian's libstb-dev): what an upload holds.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mlflow::serve::testing {

/// Pixels of a test image: width x height x channels bytes, row-major.
struct RawImage {
  int width = 0;
  int height = 0;
  int channels = 1;  ///< 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  std::vector<std::uint8_t> pixels;
};

/// The image as a PNG file's bytes.
std::string encode_png(const RawImage& image);
/// The image as a JPEG file's bytes (quality 1..100; stb drops alpha).
std::string encode_jpeg(const RawImage& image, int quality);

}  // namespace mlflow::serve::testing
