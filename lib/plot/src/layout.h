// SPDX-License-Identifier: Apache-2.0
// Axes, ticks, panel layout and legends shared by the x/y charts.
#pragma once

#include <string>
#include <vector>

#include "canvas.h"
#include "mlflow/plot/charts.h"

namespace mlflow::plot::internal {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kTitleFont = 18;
inline constexpr double kLabelFont = 14;
inline constexpr double kTickFont = 12;
inline constexpr double kLegendFont = 13;

struct Rect {
  double x = 0;
  double y = 0;
  double w = 0;
  double h = 0;
  double right() const { return x + w; }
  double bottom() const { return y + h; }
};

/// Round tick positions: multiples of 1, 2 or 5 × 10^k.
struct Ticks {
  double lo = 0;  // axis range shown
  double hi = 1;
  std::vector<double> values;
  int decimals = 0;  // for labels
};

/// About `target` ticks over [lo, hi]. With `expand` the range grows to the enclosing ticks;
/// with `integers` the step is at least 1 (epochs).
Ticks nice_ticks(double lo, double hi, int target, bool expand, bool integers = false);

/// `value` with `decimals` digits after the point ("-0" printed as "0").
std::string format_number(double value, int decimals);

/// Maps data coordinates to pixels inside `area`.
struct Axes {
  Rect area;
  Ticks x;
  Ticks y;
  double px(double v) const { return area.x + (v - x.lo) / (x.hi - x.lo) * area.w; }
  double py(double v) const { return area.bottom() - (v - y.lo) / (y.hi - y.lo) * area.h; }
};

/// The x at which text `width` pixels wide, centred as close to `want` as possible, stays in [lo,
/// hi].
double centre_within(double want, double width, double lo, double hi);

/// Widest y tick label of `ticks`, in pixels.
double tick_labels_width(Canvas& canvas, const Ticks& ticks);

/// Draws title and axis labels in `panel` and returns the plot area left for data, leaving
/// `left_ticks` pixels for y tick labels, `bottom_ticks` for x tick labels and `right` for a
/// legend.
Rect layout_panel(Canvas& canvas, const Rect& panel, const Labels& labels, double left_ticks,
                  double bottom_ticks, double right);

/// Grid lines, frame and tick labels (x tick labels only when `x_labels`).
void draw_axes(Canvas& canvas, const Axes& axes, bool x_labels = true);

struct LegendEntry {
  enum class Kind { kLine, kBox, kDot };
  std::string name;
  Rgb colour;
  Kind kind = Kind::kLine;
};

/// Width a legend of `entries` needs, including its padding.
double legend_width(Canvas& canvas, const std::vector<LegendEntry>& entries, double max_width);

/// Draws a framed legend with its top-left corner at (x, y), at most `max_width` wide.
void draw_legend(Canvas& canvas, double x, double y, const std::vector<LegendEntry>& entries,
                 double max_width);

}  // namespace mlflow::plot::internal
