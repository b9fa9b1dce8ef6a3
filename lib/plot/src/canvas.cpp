// SPDX-License-Identifier: Apache-2.0
// Canvas on cairo, and why cairo rather than PLplot renders the charts.
//
// Both were tried on the same two pictures (a 10×10 confusion matrix with "T-shirt/top"/"Ankle
// boot" labels and values in the cells, and two-panel learning curves with a legend):
// - Text: cairo measures every string (cairo_text_extents), so labels are placed, centred, rotated
//   and shortened exactly; PLplot's plptex/plmtex position text in character-height units relative
//   to the viewport, clipped the class names outside the matrix on the first try, and needs manual
//   offsets per label. Both antialias text and lines (PLplot's pngcairo driver is cairo
//   underneath).
// - Thread-safety: cairo keeps all state in the cairo_t/surface each call owns, so charts can be
//   rendered concurrently; PLplot has one global current stream (plinit/plend, colour maps,
//   viewport) and would need a process-wide mutex around every chart.
// - Errors: cairo reports a status we turn into mlflow::Status; PLplot prints "PLPLOT ERROR,
//   ABORTING OPERATION" to stderr, carries on, and loads its PNG driver as a plugin at run time
//   (driver lookup by path, another thing that can fail far from the call).
// - Dependencies: libcairo2 is what PLplot's PNG driver draws with anyway; PLplot adds libplplot17,
//   libplplot-data, ltdl driver plugins, csiro csa/nn, qsastime, shapelib, libharu, pango and X11.
// - PNG size: similar (about 50 KB for the confusion matrix either way).
// - Ergonomics: PLplot gives axes, ticks and legends for free, which is the part we re-do here
//   (layout.cpp, about 170 lines); everything else is simpler with cairo.
#include "canvas.h"

#include <cmath>
#include <string>

#include "mlflow/atomic_file.h"

namespace mlflow::plot::internal {
namespace {

constexpr const char* kFontFamily = "DejaVu Sans";

// Appends cairo's PNG output to a std::string.
cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

}  // namespace

Rgb palette(int index) {
  static constexpr Rgb kColours[20] = {
      {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173}, {0.839, 0.153, 0.157},
      {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
      {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812}, {0.682, 0.780, 0.910}, {1.000, 0.733, 0.471},
      {0.596, 0.875, 0.541}, {1.000, 0.596, 0.588}, {0.773, 0.690, 0.835}, {0.769, 0.612, 0.580},
      {0.969, 0.714, 0.824}, {0.780, 0.780, 0.780}, {0.859, 0.859, 0.553}, {0.620, 0.855, 0.898}};
  return kColours[((index % 20) + 20) % 20];
}

Canvas::Canvas(int width, int height)
    : width_(width),
      height_(height),
      surface_(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height)),
      cr_(cairo_create(surface_)) {
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
  cairo_font_options_t* options = cairo_font_options_create();
  // Grey-scale antialiasing and no hinting: crisp enough, and the same pixels on every machine with
  // the same font, whatever the fontconfig settings.
  cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options(cr_, options);
  cairo_font_options_destroy(options);
}

Canvas::~Canvas() {
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
}

void Canvas::fill_rect(double x, double y, double w, double h, Rgb colour, double alpha) {
  cairo_set_source_rgba(cr_, colour.r, colour.g, colour.b, alpha);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_fill(cr_);
}

void Canvas::stroke_rect(double x, double y, double w, double h, Rgb colour, double line_width) {
  cairo_set_source_rgb(cr_, colour.r, colour.g, colour.b);
  cairo_set_line_width(cr_, line_width);
  cairo_rectangle(cr_, x, y, w, h);
  cairo_stroke(cr_);
}

void Canvas::line(double x1, double y1, double x2, double y2, Rgb colour, double line_width) {
  cairo_set_source_rgb(cr_, colour.r, colour.g, colour.b);
  cairo_set_line_width(cr_, line_width);
  cairo_move_to(cr_, x1, y1);
  cairo_line_to(cr_, x2, y2);
  cairo_stroke(cr_);
}

void Canvas::set_font(double font_size, bool bold) {
  cairo_select_font_face(cr_, kFontFamily, CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, font_size);
}

double Canvas::text_width(const std::string& text, double font_size, bool bold) {
  set_font(font_size, bold);
  cairo_text_extents_t extents;
  cairo_text_extents(cr_, text.c_str(), &extents);
  return extents.x_advance;
}

double Canvas::text_height(double font_size) {
  set_font(font_size, false);
  cairo_font_extents_t extents;
  cairo_font_extents(cr_, &extents);
  return extents.ascent + extents.descent;
}

std::string Canvas::fit_text(const std::string& text, double font_size, double max_width,
                             bool bold) {
  if (text_width(text, font_size, bold) <= max_width) return text;
  static const std::string kEllipsis = "\xE2\x80\xA6";
  std::string shortened = text;
  while (!shortened.empty()) {
    shortened.pop_back();
    // Never leave half a UTF-8 sequence behind.
    while (!shortened.empty() && (static_cast<unsigned char>(shortened.back()) & 0xC0) == 0x80) {
      shortened.pop_back();
    }
    if (!shortened.empty() && (static_cast<unsigned char>(shortened.back()) & 0xC0) == 0xC0) {
      shortened.pop_back();
    }
    if (text_width(shortened + kEllipsis, font_size, bold) <= max_width)
      return shortened + kEllipsis;
  }
  return std::string();
}

void Canvas::text(double x, double y, const std::string& text, double font_size, double h_anchor,
                  double v_anchor, Rgb colour, double angle, bool bold) {
  if (text.empty()) return;
  set_font(font_size, bold);
  cairo_text_extents_t extents;
  cairo_text_extents(cr_, text.c_str(), &extents);
  cairo_font_extents_t font;
  cairo_font_extents(cr_, &font);
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  cairo_rotate(cr_, angle);
  // Vertical placement uses the font's ascent/descent, not the ink, so labels share a baseline.
  const double line_height = font.ascent + font.descent;
  cairo_move_to(cr_, -extents.x_advance * h_anchor, -line_height * v_anchor + font.ascent);
  cairo_set_source_rgb(cr_, colour.r, colour.g, colour.b);
  cairo_show_text(cr_, text.c_str());
  cairo_restore(cr_);
}

Status Canvas::write_png(const std::string& path) {
  cairo_surface_flush(surface_);
  if (cairo_status(cr_) != CAIRO_STATUS_SUCCESS) {
    return Status(StatusCode::kInternal, std::string("cairo failed while drawing '") + path +
                                             "': " + cairo_status_to_string(cairo_status(cr_)));
  }
  std::string png;
  const cairo_status_t st = cairo_surface_write_to_png_stream(surface_, append_to_string, &png);
  if (st != CAIRO_STATUS_SUCCESS) {
    return Status(StatusCode::kInternal, std::string("cairo could not encode '") + path +
                                             "' as PNG: " + cairo_status_to_string(st));
  }
  Status written = write_file_atomically(path, png);
  if (written.ok() || written.code() == StatusCode::kInvalidArgument) return written;
  // The plot functions promise kFailedPrecondition for any path they cannot write.
  return Status(StatusCode::kFailedPrecondition,
                "cannot write PNG '" + path + "': " + written.message());
}

}  // namespace mlflow::plot::internal
