// SPDX-License-Identifier: Apache-2.0
// Tests of image_to_input(): each rule of image_input.h on images encoded in the test.
#include "image_input.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <functional>
#include <string>

#include "image_encoding.h"

namespace mlflow::serve {
namespace {

using testing::encode_jpeg;
using testing::encode_png;
using testing::RawImage;

// An image whose channels are given per pixel by `at(x, y)`.
RawImage make_image(int w, int h, int channels,
                    const std::function<std::vector<std::uint8_t>(int, int)>& at) {
  RawImage image{w, h, channels, {}};
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (std::uint8_t v : at(x, y)) image.pixels.push_back(v);
    }
  }
  return image;
}

// A 28x28 grey image shaped like a garment: columns 6..21 hold 95..245 (+ 10 per column) on every
// row (it spans the full height, as Fashion-MNIST garments do), black around.
RawImage garment28() {
  return make_image(28, 28, 1, [](int x, int) {
    bool inside = x >= 6 && x < 22;
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(inside ? 95 + 10 * (x - 6) : 0)};
  });
}

float at(const ImageInput& in, int x, int y) {
  return in.pixels[static_cast<std::size_t>(y) * 28 + x];
}

ImageInput convert(const std::string& bytes, const ImageInputOptions& options = {}) {
  auto result = image_to_input(bytes, options);
  REQUIRE_MESSAGE(result.ok(), result.status().to_string());
  REQUIRE(result->pixels.size() == 784);
  return std::move(result).value();
}

std::string error_of(const std::string& bytes, const ImageInputOptions& options = {}) {
  auto result = image_to_input(bytes, options);
  REQUIRE(!result.ok());
  CHECK(result.status().code() == StatusCode::kInvalidArgument);
  return result.status().message();
}

TEST_CASE("image input: a 28x28 grey PNG of the training kind passes through, stretched to 1") {
  auto in = convert(encode_png(garment28()));
  CHECK(in.width == 28);
  CHECK(in.height == 28);
  CHECK(in.channels == 1);
  CHECK_FALSE(in.inverted);
  CHECK(at(in, 0, 5) == 0.0F);
  CHECK(at(in, 5, 27) == 0.0F);
  // Rule 8: the brightest pixel (245) becomes 1, the others in proportion.
  CHECK(at(in, 21, 0) == doctest::Approx(1.0));
  CHECK(at(in, 6, 13) == doctest::Approx(95.0 / 245).epsilon(1e-5));
  ImageInputOptions unstretched;
  unstretched.stretch_contrast = false;
  CHECK(at(convert(encode_png(garment28()), unstretched), 6, 13) ==
        doctest::Approx(95.0 / 255).epsilon(1e-5));
}

TEST_CASE("image input: colour becomes Rec. 601 luma") {
  // A pure red block on black: luma 0.299 * 255 = 76.
  auto red = make_image(28, 28, 3, [](int x, int) {
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(x >= 8 && x < 20 ? 255 : 0), 0, 0};
  });
  ImageInputOptions unstretched;
  unstretched.stretch_contrast = false;
  auto in = convert(encode_png(red), unstretched);
  CHECK(in.channels == 3);
  CHECK(at(in, 14, 14) == doctest::Approx(76.0 / 255).epsilon(0.01));
  CHECK(at(in, 2, 14) == 0.0F);
  // Stretched, the red garment is as bright as a white one.
  CHECK(at(convert(encode_png(red)), 14, 14) == doctest::Approx(1.0));
}

TEST_CASE("image input: a light background is inverted") {
  // A dark grey garment (64) on white: the photo convention.
  auto photo = make_image(28, 28, 3, [](int x, int) {
    std::uint8_t v = x >= 8 && x < 20 ? 64 : 255;
    return std::vector<std::uint8_t>{v, v, v};
  });
  auto in = convert(encode_png(photo));
  CHECK(in.inverted);
  CHECK(at(in, 0, 0) == 0.0F);
  CHECK(at(in, 27, 27) == 0.0F);
  CHECK(at(in, 14, 14) == doctest::Approx(1.0));
  ImageInputOptions unstretched;
  unstretched.stretch_contrast = false;
  CHECK(at(convert(encode_png(photo), unstretched), 14, 14) ==
        doctest::Approx(1 - 64.0 / 255).epsilon(1e-5));
}

TEST_CASE("image input: transparent pixels are background, whatever colour they hide") {
  // Black strokes on a transparent canvas whose hidden colour is also black: the matte is white
  // (the content is dark), then rule 4 inverts, so the strokes come out white on black.
  auto drawing = make_image(28, 28, 4, [](int x, int) {
    bool stroke = x >= 10 && x < 18;
    return std::vector<std::uint8_t>{0, 0, 0, static_cast<std::uint8_t>(stroke ? 255 : 0)};
  });
  auto in = convert(encode_png(drawing));
  CHECK(in.channels == 4);
  CHECK(in.inverted);
  CHECK(at(in, 14, 14) == doctest::Approx(1.0));
  CHECK(at(in, 2, 14) == 0.0F);

  // A light garment cut out on a transparent canvas hiding white: composited onto black, kept.
  auto cutout = make_image(28, 28, 2, [](int x, int) {
    bool garment = x >= 10 && x < 18;
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(garment ? 200 : 255),
                                     static_cast<std::uint8_t>(garment ? 255 : 0)};
  });
  auto kept = convert(encode_png(cutout));
  CHECK(kept.channels == 2);
  CHECK_FALSE(kept.inverted);
  CHECK(at(kept, 14, 14) == doctest::Approx(1.0));
  CHECK(at(kept, 2, 14) == 0.0F);

  // Half-transparent white over a transparent-black canvas: composited to 50 % grey.
  auto faint = make_image(28, 28, 4, [](int x, int) {
    bool garment = x >= 10 && x < 18;
    return std::vector<std::uint8_t>{255, 255, 255, static_cast<std::uint8_t>(garment ? 128 : 0)};
  });
  ImageInputOptions unstretched;
  unstretched.stretch_contrast = false;
  CHECK(at(convert(encode_png(faint), unstretched), 14, 14) ==
        doctest::Approx(128.0 / 255).epsilon(1e-5));
}

TEST_CASE("image input: cropped to the content, fitted into a square with padding, aspect kept") {
  // 200x100, a white 160x40 bar centred on black: cropped to 160x40, padded to 160x160, resized to
  // 28x28: a 28x7 bar over rows 10.5..17.5.
  auto bar = make_image(200, 100, 1, [](int x, int y) {
    bool inside = x >= 20 && x < 180 && y >= 30 && y < 70;
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(inside ? 255 : 0)};
  });
  auto in = convert(encode_png(bar));
  for (int x : {0, 13, 27}) {
    CHECK(at(in, x, 9) == 0.0F);
    CHECK(at(in, x, 10) == doctest::Approx(0.5).epsilon(0.02));
    for (int y = 11; y <= 16; ++y) CHECK(at(in, x, y) == doctest::Approx(1.0));
    CHECK(at(in, x, 17) == doctest::Approx(0.5).epsilon(0.02));
    CHECK(at(in, x, 18) == 0.0F);
  }
  // Without the crop, the whole 200x100 image is fitted: the bar is 22.4x5.6 pixels.
  ImageInputOptions uncropped;
  uncropped.crop_to_content = false;
  auto whole = convert(encode_png(bar), uncropped);
  CHECK(at(whole, 1, 14) == 0.0F);
  CHECK(at(whole, 14, 14) == doctest::Approx(1.0));
  CHECK(at(whole, 14, 10) == 0.0F);
}

TEST_CASE("image input: content that already spans its square keeps the image's framing") {
  // Full height, off-centre to the left: the square is the image itself, nothing moves.
  auto left = make_image(28, 28, 1, [](int x, int) {
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(x >= 2 && x < 12 ? 255 : 0)};
  });
  auto in = convert(encode_png(left));
  CHECK(at(in, 1, 14) == 0.0F);
  CHECK(at(in, 2, 14) == doctest::Approx(1.0));
  CHECK(at(in, 11, 14) == doctest::Approx(1.0));
  CHECK(at(in, 12, 14) == 0.0F);
}

TEST_CASE("image input: reduced by area averaging, not by sampling") {
  // 1-pixel stripes, 10 source pixels per model pixel: every model pixel averages 5 white and 5
  // black columns (a sampler would give 0 or 1). The frame stops the crop and the stretch.
  auto stripes = make_image(280, 280, 1, [](int x, int y) {
    bool frame = x < 10 || x >= 270 || y < 10 || y >= 270;
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>(!frame && x % 2 == 1 ? 255 : 0)};
  });
  ImageInputOptions plain;
  plain.crop_to_content = false;
  plain.stretch_contrast = false;
  auto in = convert(encode_png(stripes), plain);
  for (int y = 1; y < 27; y += 5) {
    for (int x = 1; x < 27; x += 3) CHECK(at(in, x, y) == doctest::Approx(0.5).epsilon(0.01));
  }
  CHECK(at(in, 0, 0) == 0.0F);

  // Large images go through a first reduction to 448 pixels: still the averages.
  auto large = make_image(2240, 1120, 1, [](int x, int y) {
    return std::vector<std::uint8_t>{
        static_cast<std::uint8_t>(y >= 100 && y < 1020 && x % 2 ? 255 : 0)};
  });
  auto reduced = convert(encode_png(large), plain);
  CHECK(at(reduced, 14, 14) == doctest::Approx(0.5).epsilon(0.01));
}

TEST_CASE("image input: a JPEG at quality 90 stays close to its PNG") {
  auto png = convert(encode_png(garment28()));
  auto jpeg = convert(encode_jpeg(garment28(), 90));
  double diff = 0;
  for (std::size_t i = 0; i < 784; ++i) diff += std::abs(png.pixels[i] - jpeg.pixels[i]);
  CHECK(diff / 784 < 0.02);
}

TEST_CASE("image input: size limits are checked before decoding") {
  std::string png = encode_png(garment28());
  // The same file claiming 8000x6250 pixels in its IHDR chunk (stb checks no CRC): refused by
  // size, not as truncated, so the header alone decided and no 50-megapixel buffer was made.
  std::string huge = png;
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) huge[at + i] = static_cast<char>(v >> (24 - 8 * i));
  };
  put32(16, 8000);
  put32(20, 6250);
  CHECK(error_of(huge) == "image of 8000x6250 pixels is larger than the limit of 25000000 pixels");

  ImageInputOptions small;
  small.max_pixels = 783;
  CHECK(error_of(png, small) == "image of 28x28 pixels is larger than the limit of 783 pixels");
  small.max_pixels = 784;
  CHECK(image_to_input(png, small).ok());

  ImageInputOptions few_bytes;
  few_bytes.max_bytes = png.size() - 1;
  CHECK(error_of(png, few_bytes) == "image of " + std::to_string(png.size()) +
                                        " bytes is larger than the limit of " +
                                        std::to_string(png.size() - 1) + " bytes");
}

TEST_CASE("image input: empty, garbage and truncated files are refused by name") {
  CHECK(error_of("") == "empty image: no bytes");
  std::string html = error_of("<html><body>not an image</body></html>");
  CHECK(html.rfind("not a PNG or JPEG image: ", 0) == 0);
  CHECK(html.find("(starts with 3c 68 74 6d 6c 3e 3c 62)") != std::string::npos);

  // Big enough that the cut lands in the pixel data.
  auto noise = make_image(64, 64, 3, [](int x, int y) {
    auto v = static_cast<std::uint8_t>((x * 37 + y * 101 + x * y) % 251);
    return std::vector<std::uint8_t>{v, static_cast<std::uint8_t>(255 - v), v};
  });
  std::string png = encode_png(noise);
  std::string cut_png = error_of(png.substr(0, png.size() / 2));
  CHECK(cut_png.rfind("corrupt or truncated image: ", 0) == 0);
  std::string jpeg = encode_jpeg(noise, 90);
  REQUIRE(image_to_input(jpeg).ok());
  CHECK(error_of(jpeg.substr(0, jpeg.size() / 2)) ==
        "corrupt or truncated image: JPEG data ends before its end-of-image marker");
  // Cut inside the header: stb cannot even read the size.
  CHECK(error_of(png.substr(0, 12)).rfind("not a PNG or JPEG image: ", 0) == 0);
}

TEST_CASE("image input: a blank image is not stretched into noise") {
  auto blank = make_image(40, 30, 1, [](int x, int y) {
    return std::vector<std::uint8_t>{static_cast<std::uint8_t>((x + y) % 7 == 0 ? 3 : 0)};
  });
  auto in = convert(encode_png(blank));
  for (float v : in.pixels) CHECK(v < 0.02F);
}

}  // namespace
}  // namespace mlflow::serve
