// SPDX-License-Identifier: Apache-2.0
// Grids of grayscale images with captions (sample images, mean image per class).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "canvas.h"
#include "checks.h"
#include "layout.h"
#include "mlflow/plot/charts.h"

namespace mlflow::plot {
namespace {

constexpr int kMargin = 16;
constexpr int kCellPad = 16;
constexpr int kCaptionRoom = 30;
constexpr int kTitleRoom = 40;
constexpr double kCaptionFont = 12;

int max_width(const ImageGrid& grid) {
  int w = 0;
  for (const GrayImage& im : grid.images) w = std::max(w, im.width);
  return w;
}

int max_height(const ImageGrid& grid) {
  int h = 0;
  for (const GrayImage& im : grid.images) h = std::max(h, im.height);
  return h;
}

}  // namespace

Size image_grid_size(const ImageGrid& grid) {
  const int columns = std::max(1, grid.columns);
  const int n = static_cast<int>(grid.images.size());
  const int rows = (n + columns - 1) / columns;
  const int cell_w = grid.scale * max_width(grid) + kCellPad;
  const int cell_h = grid.scale * max_height(grid) + kCaptionRoom;
  const int used_columns = std::min(columns, std::max(1, n));
  return Size{std::max(internal::kMinSide, 2 * kMargin + used_columns * cell_w),
              std::max(internal::kMinSide,
                       2 * kMargin + rows * cell_h + (grid.title.empty() ? 0 : kTitleRoom))};
}

Status write_image_grid(const std::string& path, const ImageGrid& grid) {
  if (path.empty()) return Status(StatusCode::kInvalidArgument, "PNG path is empty");
  if (grid.images.empty()) return internal::invalid(path, "image grid has no images");
  if (grid.columns < 1) return internal::invalid(path, "image grid needs at least 1 column");
  if (grid.scale < 1 || grid.scale > 16)
    return internal::invalid(path, "image grid scale must be in 1..16");
  for (std::size_t i = 0; i < grid.images.size(); ++i) {
    const GrayImage& im = grid.images[i];
    if (im.width < 1 || im.height < 1 || im.width > 4096 || im.height > 4096) {
      return internal::invalid(path, "image " + std::to_string(i) + " has size " +
                                         std::to_string(im.width) + "x" +
                                         std::to_string(im.height));
    }
    if (im.pixels.size() !=
        static_cast<std::size_t>(im.width) * static_cast<std::size_t>(im.height)) {
      return internal::invalid(path, "image " + std::to_string(i) + " has " +
                                         std::to_string(im.pixels.size()) + " pixels, expected " +
                                         std::to_string(im.width) + "x" +
                                         std::to_string(im.height));
    }
  }
  const Size size = image_grid_size(grid);
  if (size.width > internal::kMaxSide || size.height > internal::kMaxSide) {
    return internal::invalid(path, "image grid would be " + std::to_string(size.width) + "x" +
                                       std::to_string(size.height) + " pixels, more than " +
                                       std::to_string(internal::kMaxSide) + " per side");
  }

  internal::Canvas canvas(size.width, size.height);
  cairo_t* cr = canvas.cr();
  int top = kMargin;
  if (!grid.title.empty()) {
    canvas.text(size.width / 2.0, kMargin,
                canvas.fit_text(grid.title, internal::kTitleFont, size.width - 2.0 * kMargin, true),
                internal::kTitleFont, 0.5, 0, internal::kBlack, 0, true);
    top += kTitleRoom;
  }
  const int cell_w = grid.scale * max_width(grid) + kCellPad;
  const int cell_h = grid.scale * max_height(grid) + kCaptionRoom;
  for (std::size_t i = 0; i < grid.images.size(); ++i) {
    const GrayImage& im = grid.images[i];
    const int col = static_cast<int>(i) % grid.columns, row = static_cast<int>(i) / grid.columns;
    const int cx = kMargin + col * cell_w, cy = top + row * cell_h;
    cairo_surface_t* img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, im.width, im.height);
    cairo_surface_flush(img);
    unsigned char* data = cairo_image_surface_get_data(img);
    const int stride = cairo_image_surface_get_stride(img);
    if (data == nullptr) {
      cairo_surface_destroy(img);
      return Status(StatusCode::kInternal,
                    "cannot plot '" + path + "': cairo could not allocate an image");
    }
    for (int y = 0; y < im.height; ++y) {
      auto* out = reinterpret_cast<std::uint32_t*>(data + static_cast<std::ptrdiff_t>(y) * stride);
      for (int x = 0; x < im.width; ++x) {
        std::uint32_t v =
            im.pixels[static_cast<std::size_t>(y) * static_cast<std::size_t>(im.width) +
                      static_cast<std::size_t>(x)];
        if (grid.invert) v = 255 - v;
        out[x] = (v << 16) | (v << 8) | v;
      }
    }
    cairo_surface_mark_dirty(img);
    const double ix = cx + (cell_w - grid.scale * im.width) / 2.0;
    const double iy = cy + (cell_h - kCaptionRoom - grid.scale * im.height) / 2.0;
    cairo_save(cr);
    cairo_translate(cr, ix, iy);
    cairo_scale(cr, grid.scale, grid.scale);
    cairo_set_source_surface(cr, img, 0, 0);
    // Nearest neighbour: each source pixel becomes a crisp scale × scale block.
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    canvas.stroke_rect(ix - 0.5, iy - 0.5, grid.scale * im.width + 1.0,
                       grid.scale * im.height + 1.0, internal::kLightGrey);
    canvas.text(cx + cell_w / 2.0, cy + cell_h - kCaptionRoom + 6,
                canvas.fit_text(im.caption, kCaptionFont, cell_w - 4.0), kCaptionFont, 0.5, 0);
  }
  return canvas.write_png(path);
}

}  // namespace mlflow::plot
