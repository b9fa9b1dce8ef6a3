// SPDX-License-Identifier: Apache-2.0
// Line charts (learning curves), one panel or several side by side.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "canvas.h"
#include "checks.h"
#include "layout.h"
#include "mlflow/plot/charts.h"

namespace mlflow::plot {
namespace {

using internal::Axes;
using internal::Canvas;
using internal::LegendEntry;
using internal::Rect;

Status check_chart(const std::string& path, const LineChart& chart, std::size_t index) {
  const std::string where = "line chart " + std::to_string(index) + ": ";
  if (chart.series.empty()) return internal::invalid(path, where + "no series");
  for (const LineSeries& s : chart.series) {
    if (s.x.empty())
      return internal::invalid(path, where + "series '" + s.name + "' has no points");
    if (s.x.size() != s.y.size()) {
      return internal::invalid(path, where + "series '" + s.name + "' has " +
                                         std::to_string(s.x.size()) + " x values but " +
                                         std::to_string(s.y.size()) + " y values");
    }
    if (!internal::all_finite(s.x) || !internal::all_finite(s.y)) {
      return internal::invalid(path, where + "series '" + s.name + "' has a non-finite value");
    }
  }
  return Status();
}

void draw_chart(Canvas& canvas, const Rect& panel, const LineChart& chart) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double x_lo = kInf, x_hi = -kInf, y_lo = kInf, y_hi = -kInf;
  bool integer_x = true;
  for (const LineSeries& s : chart.series) {
    for (double v : s.x) {
      x_lo = std::min(x_lo, v);
      x_hi = std::max(x_hi, v);
      integer_x = integer_x && v == std::round(v);
    }
    for (double v : s.y) {
      y_lo = std::min(y_lo, v);
      y_hi = std::max(y_hi, v);
    }
  }
  const bool fixed_y = chart.y_min < chart.y_max;
  Axes axes;
  axes.x = internal::nice_ticks(x_lo, x_hi, 8, false, integer_x);
  // A little room either side so the first and last markers are not cut by the frame.
  const double x_pad = (axes.x.hi - axes.x.lo) * 0.02;
  axes.x.lo -= x_pad;
  axes.x.hi += x_pad;
  axes.y = fixed_y ? internal::nice_ticks(chart.y_min, chart.y_max, 6, false)
                   : internal::nice_ticks(y_lo - (y_hi - y_lo) * 0.03, y_hi + (y_hi - y_lo) * 0.03,
                                          6, true);

  std::vector<LegendEntry> legend;
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    legend.push_back(
        {chart.series[i].name, internal::palette(static_cast<int>(i)), LegendEntry::Kind::kLine});
  }
  const double legend_max = panel.w * 0.3;
  const double legend_w = internal::legend_width(canvas, legend, legend_max);
  axes.area = internal::layout_panel(canvas, panel, chart.labels,
                                     internal::tick_labels_width(canvas, axes.y),
                                     canvas.text_height(internal::kTickFont), legend_w + 10);
  internal::draw_axes(canvas, axes);

  cairo_t* cr = canvas.cr();
  cairo_save(cr);
  cairo_rectangle(cr, axes.area.x, axes.area.y, axes.area.w, axes.area.h);
  cairo_clip(cr);
  cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
  for (std::size_t i = 0; i < chart.series.size(); ++i) {
    const LineSeries& s = chart.series[i];
    const internal::Rgb c = internal::palette(static_cast<int>(i));
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    cairo_set_line_width(cr, 2.5);
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      const double px = axes.px(s.x[k]), py = axes.py(s.y[k]);
      if (k == 0)
        cairo_move_to(cr, px, py);
      else
        cairo_line_to(cr, px, py);
    }
    cairo_stroke(cr);
    // Markers, so single points and few epochs stay visible.
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      cairo_arc(cr, axes.px(s.x[k]), axes.py(s.y[k]), 3.5, 0, 2 * internal::kPi);
      cairo_fill(cr);
    }
  }
  cairo_restore(cr);
  internal::draw_legend(canvas, axes.area.right() + 10, axes.area.y, legend, legend_max);
}

}  // namespace

Status write_line_charts(const std::string& path, const std::vector<LineChart>& panels, Size size) {
  MLFLOW_CPP_RETURN_IF_ERROR(internal::check_path_and_size(path, size));
  if (panels.empty()) return internal::invalid(path, "no line charts");
  for (std::size_t i = 0; i < panels.size(); ++i)
    MLFLOW_CPP_RETURN_IF_ERROR(check_chart(path, panels[i], i));
  Canvas canvas(size.width, size.height);
  const double w = static_cast<double>(size.width) / static_cast<double>(panels.size());
  for (std::size_t i = 0; i < panels.size(); ++i) {
    draw_chart(canvas, Rect{w * static_cast<double>(i), 0, w, static_cast<double>(size.height)},
               panels[i]);
  }
  return canvas.write_png(path);
}

Status write_line_chart(const std::string& path, const LineChart& chart, Size size) {
  return write_line_charts(path, {chart}, size);
}

}  // namespace mlflow::plot
