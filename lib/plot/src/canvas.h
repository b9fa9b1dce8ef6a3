// SPDX-License-Identifier: Apache-2.0
// Canvas: a cairo image surface with the few drawing and text helpers the charts need.
#pragma once

#include <cairo.h>

#include <string>

#include "mlflow/status.h"

namespace mlflow::plot::internal {

/// An sRGB colour, components in [0, 1].
struct Rgb {
  double r = 0;
  double g = 0;
  double b = 0;
};

inline constexpr Rgb kBlack{0, 0, 0};
inline constexpr Rgb kWhite{1, 1, 1};
inline constexpr Rgb kGrey{0.35, 0.35, 0.35};
inline constexpr Rgb kLightGrey{0.88, 0.88, 0.88};

/// Distinct colours for series and classes (the tab10/tab20 family); wraps after 20.
Rgb palette(int index);

/// A white RGB image of fixed size. Not thread-safe; each chart call owns its own Canvas.
class Canvas {
 public:
  Canvas(int width, int height);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  int width() const { return width_; }
  int height() const { return height_; }
  cairo_t* cr() { return cr_; }

  void fill_rect(double x, double y, double w, double h, Rgb colour, double alpha = 1.0);
  void stroke_rect(double x, double y, double w, double h, Rgb colour, double line_width = 1.0);
  void line(double x1, double y1, double x2, double y2, Rgb colour, double line_width = 1.0);

  /// Width in pixels of `text` at `font_size` (pixels).
  double text_width(const std::string& text, double font_size, bool bold = false);
  /// Line height (ascent + descent) at `font_size`.
  double text_height(double font_size);
  /// `text` shortened with "…" so that it is at most `max_width` pixels wide.
  std::string fit_text(const std::string& text, double font_size, double max_width,
                       bool bold = false);

  /// Draws `text` anchored at (x, y): h_anchor 0 = left edge, 0.5 = centre, 1 = right edge;
  /// v_anchor 0 = top, 0.5 = middle, 1 = bottom of the line. `angle` rotates (radians, clockwise
  /// positive as in cairo) around the anchor.
  void text(double x, double y, const std::string& text, double font_size, double h_anchor,
            double v_anchor, Rgb colour = kBlack, double angle = 0, bool bold = false);

  /// Encodes the image as PNG and writes it atomically to `path` (see charts.h).
  Status write_png(const std::string& path);

 private:
  void set_font(double font_size, bool bold);

  int width_;
  int height_;
  cairo_surface_t* surface_;
  cairo_t* cr_;
};

}  // namespace mlflow::plot::internal
