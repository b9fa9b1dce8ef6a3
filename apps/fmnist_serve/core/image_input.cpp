// SPDX-License-Identifier: Apache-2.0
// The rules of image_input.h with Debian's stb (libstb-dev: stb_image decodes, stb_image_resize
// averages).
#include "image_input.h"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include <fmt/format.h>

#include "predictor.h"

namespace mlflow::serve {
namespace {

// The longer side an image is first reduced to (rule 7): 16 source pixels per model pixel.
constexpr int kReducedSide = 16 * static_cast<int>(kImageSide);

Status invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// "3c 68 74 6d": what a file that is not an image starts with, for the error message.
std::string leading_bytes(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i < std::min<std::size_t>(bytes.size(), 8); ++i) {
    out += fmt::format("{}{:02x}", i == 0 ? "" : " ", static_cast<unsigned char>(bytes[i]));
  }
  return out;
}

bool is_jpeg(std::string_view bytes) {
  return bytes.size() >= 2 && bytes.substr(0, 2) == "\xff\xd8";
}

// stb decodes a JPEG cut short without complaint (it pads the entropy-coded data with zeros), so
// the end-of-image marker is looked for after the last start-of-scan: inside entropy-coded data a
// 0xff byte is always followed by 0x00 or a restart marker, never by 0xd9.
bool jpeg_has_end(std::string_view bytes) {
  std::size_t sos = bytes.rfind("\xff\xda");
  return sos != std::string_view::npos && bytes.find("\xff\xd9", sos) != std::string_view::npos;
}

struct StbFree {
  void operator()(unsigned char* p) const { stbi_image_free(p); }
};

// Rule 3: transparent pixels become the matte that contrasts with the visible content.
void composite_alpha(const unsigned char* grey_alpha, std::int64_t n, std::vector<float>& luma) {
  double weighted = 0;
  double weight = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    double a = grey_alpha[2 * i + 1] / 255.0;
    weighted += a * grey_alpha[2 * i] / 255.0;
    weight += a;
  }
  float matte = weight > 0 && weighted / weight <= 0.5 ? 1.0F : 0.0F;
  for (std::int64_t i = 0; i < n; ++i) {
    const float a = static_cast<float>(grey_alpha[2 * i + 1]) / 255.0F;
    luma[i] = a * (static_cast<float>(grey_alpha[2 * i]) / 255.0F) + (1 - a) * matte;
  }
}

// Rule 4: the median of the outermost ring.
float border_median(const std::vector<float>& luma, int w, int h) {
  std::vector<float> ring;
  ring.reserve(2 * static_cast<std::size_t>(w + h));
  for (int x = 0; x < w; ++x) {
    ring.push_back(luma[x]);
    if (h > 1) ring.push_back(luma[static_cast<std::size_t>(h - 1) * w + x]);
  }
  for (int y = 1; y + 1 < h; ++y) {
    ring.push_back(luma[static_cast<std::size_t>(y) * w]);
    if (w > 1) ring.push_back(luma[static_cast<std::size_t>(y) * w + w - 1]);
  }
  auto mid = ring.begin() + static_cast<std::ptrdiff_t>(ring.size() / 2);
  std::nth_element(ring.begin(), mid, ring.end());
  return *mid;
}

struct Box {
  int x0, y0, x1, y1;  // half-open
};

// Rule 5: the bounding box of what differs from the background; the whole image when nothing does.
Box content_box(const std::vector<float>& luma, int w, int h, float background, float threshold) {
  Box box{w, h, 0, 0};
  for (int y = 0; y < h; ++y) {
    const float* row = luma.data() + static_cast<std::size_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      if (std::fabs(row[x] - background) > threshold) {
        box.x0 = std::min(box.x0, x);
        box.x1 = std::max(box.x1, x + 1);
        box.y0 = std::min(box.y0, y);
        box.y1 = std::max(box.y1, y + 1);
      }
    }
  }
  if (box.x1 <= box.x0) return Box{0, 0, w, h};
  return box;
}

Status resize(const float* in, int w, int h, int stride_floats, float* out, int out_w, int out_h) {
  stbir_filter filter = out_w >= w ? STBIR_FILTER_TRIANGLE : STBIR_FILTER_BOX;
  if (out_w == w && out_h == h) filter = STBIR_FILTER_BOX;
  int ok = stbir_resize_float_generic(in, w, h, stride_floats * static_cast<int>(sizeof(float)),
                                      out, out_w, out_h, 0, 1, STBIR_ALPHA_CHANNEL_NONE, 0,
                                      STBIR_EDGE_CLAMP, filter, STBIR_COLORSPACE_LINEAR, nullptr);
  if (!ok) return Status(StatusCode::kInternal, fmt::format("resizing {}x{} failed", w, h));
  return ok_status();
}

// Rule 6: where the square window around [lo, hi) starts on an axis of `extent` pixels: centred on
// the content, moved to stay inside the image when the image is long enough (so content that
// already fills its square keeps the image's own framing), else holding the whole axis.
int window_start(int lo, int hi, int side, int extent) {
  return std::clamp((lo + hi - side) / 2, std::min(0, extent - side), std::max(0, extent - side));
}

// Rules 6 and 7: the square window around the box (padded with the background where it leaves the
// image), reduced to kReducedSide first when larger, resized to 28x28.
StatusOr<std::vector<float>> fit_to_model(const std::vector<float>& luma, int w, int h,
                                          const Box& box, float background) {
  int side = std::max(box.x1 - box.x0, box.y1 - box.y0);
  const int wx = window_start(box.x0, box.x1, side, w);
  const int wy = window_start(box.y0, box.y1, side, h);
  const int ix = std::max(wx, 0);
  const int iy = std::max(wy, 0);
  int iw = std::min(wx + side, w) - ix;
  int ih = std::min(wy + side, h) - iy;
  int dx = ix - wx;
  int dy = iy - wy;
  const float* origin = luma.data() + static_cast<std::size_t>(iy) * w + ix;
  int stride = w;
  std::vector<float> reduced;
  if (side > kReducedSide) {
    const double scale = static_cast<double>(kReducedSide) / side;
    const int rw = std::max(1, static_cast<int>(std::lround(iw * scale)));
    const int rh = std::max(1, static_cast<int>(std::lround(ih * scale)));
    reduced.resize(static_cast<std::size_t>(rw) * rh);
    MLFLOW_CPP_RETURN_IF_ERROR(resize(origin, iw, ih, stride, reduced.data(), rw, rh));
    side = kReducedSide;
    dx = std::min(static_cast<int>(std::lround(dx * scale)), side - rw);
    dy = std::min(static_cast<int>(std::lround(dy * scale)), side - rh);
    origin = reduced.data();
    stride = iw = rw;
    ih = rh;
  }
  std::vector<float> square(static_cast<std::size_t>(side) * side, background);
  for (int y = 0; y < ih; ++y) {
    std::copy_n(origin + static_cast<std::size_t>(y) * stride, iw,
                square.begin() + static_cast<std::ptrdiff_t>(y + dy) * side + dx);
  }
  std::vector<float> out(kImageSize);
  constexpr int kSide = static_cast<int>(kImageSide);
  MLFLOW_CPP_RETURN_IF_ERROR(resize(square.data(), side, side, side, out.data(), kSide, kSide));
  return out;
}

// Rule 8.
void scale_to_training_range(std::vector<float>& pixels, float background,
                             const ImageInputOptions& options) {
  float top = *std::max_element(pixels.begin(), pixels.end());
  float range = top - background;
  float divisor = options.stretch_contrast && range >= options.min_contrast ? range : 1.0F;
  for (float& v : pixels) v = std::clamp((v - background) / divisor, 0.0F, 1.0F);
}

}  // namespace

StatusOr<ImageInput> image_to_input(std::string_view bytes, const ImageInputOptions& options) {
  if (bytes.empty()) return invalid("empty image: no bytes");
  if (bytes.size() > options.max_bytes) {
    return invalid(fmt::format("image of {} bytes is larger than the limit of {} bytes",
                               bytes.size(), options.max_bytes));
  }
  // stb takes an int length; max_bytes is far below, but a caller may raise it.
  if (bytes.size() > static_cast<std::size_t>(INT32_MAX)) {
    return invalid(fmt::format("image of {} bytes is too large to decode", bytes.size()));
  }
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const int len = static_cast<int>(bytes.size());
  ImageInput result;
  if (!stbi_info_from_memory(data, len, &result.width, &result.height, &result.channels)) {
    return invalid(fmt::format("not a PNG or JPEG image: {} (starts with {})",
                               stbi_failure_reason(), leading_bytes(bytes)));
  }
  const std::int64_t pixels = std::int64_t{result.width} * result.height;
  if (pixels > options.max_pixels) {
    return invalid(fmt::format("image of {}x{} pixels is larger than the limit of {} pixels",
                               result.width, result.height, options.max_pixels));
  }
  if (is_jpeg(bytes) && !jpeg_has_end(bytes)) {
    return invalid("corrupt or truncated image: JPEG data ends before its end-of-image marker");
  }
  const bool has_alpha = result.channels == 2 || result.channels == 4;
  int w = 0;
  int h = 0;
  int stored = 0;
  std::unique_ptr<unsigned char, StbFree> decoded(
      stbi_load_from_memory(data, len, &w, &h, &stored, has_alpha ? 2 : 1));
  if (!decoded) {
    return invalid(fmt::format("corrupt or truncated image: {}", stbi_failure_reason()));
  }
  std::vector<float> luma(static_cast<std::size_t>(pixels));
  if (has_alpha) {
    composite_alpha(decoded.get(), pixels, luma);
  } else {
    std::transform(decoded.get(), decoded.get() + pixels, luma.begin(),
                   [](unsigned char v) { return static_cast<float>(v) / 255.0F; });
  }
  decoded.reset();

  float background = border_median(luma, w, h);
  if (background > 0.5F) {
    result.inverted = true;
    for (float& v : luma) v = 1 - v;
    background = 1 - background;
  }
  Box box = options.crop_to_content ? content_box(luma, w, h, background, options.content_threshold)
                                    : Box{0, 0, w, h};
  auto fitted = fit_to_model(luma, w, h, box, background);
  if (!fitted.ok()) return fitted.status();
  result.pixels = std::move(fitted).value();
  scale_to_training_range(result.pixels, background, options);
  return result;
}

}  // namespace mlflow::serve
