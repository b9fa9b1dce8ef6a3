// SPDX-License-Identifier: Apache-2.0
// An uploaded image (PNG, JPEG, or anything else stb_image reads: BMP, GIF, TGA, PSD, PNM, HDR)
// brought to the Fashion-MNIST input: 28x28 floats in the training scale (pixel / 255, a light
// garment on a black background). LibTorch-free; used by /predict and fmnist_score.
//
// The rules, in order (README "Serving: images" repeats them):
//  1. Size first: more than max_bytes bytes, or a header announcing more than max_pixels pixels, is
//     refused before any pixel is decoded (a 50-megapixel upload never allocates its pixels).
//  2. Grey: stb converts colour to luma (Rec. 601: 0.299 R + 0.587 G + 0.114 B); 16-bit and HDR
//     images are brought to 8 bits by stb.
//  3. Alpha: transparent pixels are background. The image is composited onto black when its
//     visible (alpha-weighted) content is light, onto white when it is dark, so a dark drawing on a
//     transparent canvas and a light garment cut out on a transparent one both keep their contrast.
//  4. Background: the median of the outermost ring of pixels. A light one (> 0.5) means a dark
//     garment on a light background, the photo convention: the image is inverted.
//  5. Crop to the content: the bounding box of the pixels that differ from the background by more
//     than content_threshold (Fashion-MNIST's own pipeline trimmed its product photos this way
//     before resizing, so garments touch the frame on their longer side).
//  6. Fit into a square, keeping the aspect ratio: the square is as large as the box's longer side
//     and centred on the box, but moved to stay inside the image along an axis long enough for it
//     (an image whose content already spans its square keeps its own framing); where it leaves the
//     image it is padded with the background colour.
//  7. Resize to 28x28 by area averaging (stb_image_resize's box filter; a linear filter when
//     enlarging an image smaller than 28 pixels). Images over 448 pixels are first reduced to 448
//     on their longer side the same way, so the square never costs more than 448x448 floats.
//  8. Scale: the background maps to 0 and the brightest pixel to 1 (every Fashion-MNIST test image
//     has its brightest pixel at 240..255, so a coloured or dim garment is stretched to the
//     training range); an image with less than min_contrast of range is only shifted, not
//     stretched, so noise on a blank image stays dark.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::serve {

/// Limits and switches of image_to_input(); the defaults are the documented rules.
struct ImageInputOptions {
  std::int64_t max_pixels = 25'000'000;                   ///< width x height above this is refused
  std::size_t max_bytes = std::size_t{20} * 1024 * 1024;  ///< encoded size above this is refused
  bool crop_to_content = true;                            ///< rule 5
  float content_threshold = 0.1F;  ///< rule 5: difference from the background, in [0, 1]
  bool stretch_contrast = true;    ///< rule 8
  float min_contrast = 0.1F;       ///< rule 8: below this range no stretch
};

/// An image brought to the model's input, with what was found on the way (for logs and replies).
struct ImageInput {
  std::vector<float> pixels;  ///< 28 x 28 floats in [0, 1], row-major: 0 background, 1 garment
  int width = 0;              ///< of the uploaded image
  int height = 0;             ///< of the uploaded image
  int channels = 0;           ///< as stored: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA
  bool inverted = false;      ///< rule 4 found a light background
};

/// Decodes `bytes` and applies the rules above. Errors are kInvalidArgument naming what is wrong:
/// "empty image: no bytes", "image of N bytes is larger than the limit of M bytes", "not a PNG or
/// JPEG image: <stb's reason> (starts with 3c 68 74 6d)", "image of 8000x6250 pixels is larger than
/// the limit of 25000000 pixels", "corrupt or truncated image: <stb's reason>" (a JPEG without its
/// end-of-image marker counts as truncated). Thread-safety: a free function; concurrent calls are
/// fine (stb's failure reason is thread-local).
StatusOr<ImageInput> image_to_input(std::string_view bytes, const ImageInputOptions& options = {});

}  // namespace mlflow::serve
