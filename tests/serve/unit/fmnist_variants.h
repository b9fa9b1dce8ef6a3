// SPDX-License-Identifier: Apache-2.0
// Fashion-MNIST test images re-encoded as uploads in other sizes, colours and formats: what a user
// might send. Shared by the faithfulness test (serve_unit) and fmnist_score's integration test.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace mlflow::serve::testing {

/// How a 28x28 test image is re-encoded.
enum class Variant {
  kPng28,          ///< the image itself as a grey PNG
  kGrey100,        ///< enlarged to 100x100 (bilinear), grey PNG
  kPadded300x200,  ///< enlarged to 200x200 and centred on a 300x200 black canvas, grey PNG
  kTintedRgb,      ///< 140x140 RGB PNG: inverted (white background), the garment tinted navy blue
  kTintedJpeg90,   ///< kTintedRgb's colours on a 300x200 white canvas (garment 200x200), JPEG q90
  kAlphaCutout,    ///< 112x112 RGBA PNG: a white garment whose alpha is the pixel, the rest clear
};

/// Every variant, in declaration order.
inline constexpr std::array<Variant, 6> kAllVariants = {
    Variant::kPng28,     Variant::kGrey100,      Variant::kPadded300x200,
    Variant::kTintedRgb, Variant::kTintedJpeg90, Variant::kAlphaCutout};

/// Short name, e.g. "padded300x200", for messages and file names.
std::string variant_name(Variant variant);
/// File extension with its dot: ".png" or ".jpg".
std::string variant_extension(Variant variant);
/// The encoded file of `image28` (28 x 28 bytes, 0 = background) as `variant`.
std::string encode_variant(const std::uint8_t* image28, Variant variant);

}  // namespace mlflow::serve::testing
