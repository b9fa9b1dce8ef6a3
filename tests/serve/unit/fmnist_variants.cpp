// SPDX-License-Identifier: Apache-2.0
#include "fmnist_variants.h"

#include <stb_image_resize.h>

#include <vector>

#include "image_encoding.h"

namespace mlflow::serve::testing {
namespace {

constexpr int kSide = 28;
// Navy blue: the colour a garment fully present (pixel 255) takes on the white background.
constexpr std::uint8_t kTint[3] = {30, 40, 120};

std::vector<std::uint8_t> enlarge(const std::uint8_t* image28, int side) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(side) * side);
  stbir_resize_uint8_generic(image28, kSide, kSide, 0, out.data(), side, side, 0, 1,
                             STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_FILTER_TRIANGLE,
                             STBIR_COLORSPACE_LINEAR, nullptr);
  return out;
}

// `grey` (side x side) centred on a w x h canvas of `background`.
RawImage on_canvas(const std::vector<std::uint8_t>& grey, int side, int w, int h,
                   std::uint8_t background) {
  RawImage image{w, h, 1, std::vector<std::uint8_t>(static_cast<std::size_t>(w) * h, background)};
  int dx = (w - side) / 2;
  int dy = (h - side) / 2;
  for (int y = 0; y < side; ++y) {
    for (int x = 0; x < side; ++x) {
      image.pixels[static_cast<std::size_t>(y + dy) * w + x + dx] =
          grey[static_cast<std::size_t>(y) * side + x];
    }
  }
  return image;
}

// White where the garment is absent, kTint where it is fully present, blended in between.
RawImage tinted(const RawImage& grey) {
  RawImage rgb{grey.width, grey.height, 3, {}};
  rgb.pixels.reserve(grey.pixels.size() * 3);
  for (std::uint8_t v : grey.pixels) {
    for (std::uint8_t tint : kTint) {
      rgb.pixels.push_back(static_cast<std::uint8_t>(255 - (255 - tint) * v / 255));
    }
  }
  return rgb;
}

}  // namespace

std::string variant_name(Variant variant) {
  switch (variant) {
    case Variant::kPng28:
      return "png28";
    case Variant::kGrey100:
      return "grey100";
    case Variant::kPadded300x200:
      return "padded300x200";
    case Variant::kTintedRgb:
      return "tinted_rgb";
    case Variant::kTintedJpeg90:
      return "tinted_jpeg90";
    case Variant::kAlphaCutout:
      return "alpha_cutout";
  }
  return "unknown";
}

std::string variant_extension(Variant variant) {
  return variant == Variant::kTintedJpeg90 ? ".jpg" : ".png";
}

std::string encode_variant(const std::uint8_t* image28, Variant variant) {
  switch (variant) {
    case Variant::kPng28:
      return encode_png(RawImage{kSide, kSide, 1, {image28, image28 + kSide * kSide}});
    case Variant::kGrey100:
      return encode_png(RawImage{100, 100, 1, enlarge(image28, 100)});
    case Variant::kPadded300x200:
      return encode_png(on_canvas(enlarge(image28, 200), 200, 300, 200, 0));
    case Variant::kTintedRgb:
      return encode_png(tinted(on_canvas(enlarge(image28, 140), 140, 140, 140, 0)));
    case Variant::kTintedJpeg90:
      return encode_jpeg(tinted(on_canvas(enlarge(image28, 200), 200, 300, 200, 0)), 90);
    case Variant::kAlphaCutout: {
      std::vector<std::uint8_t> alpha = enlarge(image28, 112);
      RawImage rgba{112, 112, 4, {}};
      for (std::uint8_t a : alpha) rgba.pixels.insert(rgba.pixels.end(), {255, 255, 255, a});
      return encode_png(rgba);
    }
  }
  return {};
}

}  // namespace mlflow::serve::testing
