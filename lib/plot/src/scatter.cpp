// SPDX-License-Identifier: Apache-2.0
// Scatter plots coloured by class (PCA projections).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "canvas.h"
#include "checks.h"
#include "layout.h"
#include "mlflow/plot/charts.h"

namespace mlflow::plot {

Status write_scatter(const std::string& path, const Scatter& scatter, Size size) {
  using internal::LegendEntry;
  MLFLOW_CPP_RETURN_IF_ERROR(internal::check_path_and_size(path, size));
  const std::size_t n = scatter.x.size();
  if (n == 0) return internal::invalid(path, "scatter has no points");
  if (scatter.y.size() != n || scatter.classes.size() != n) {
    return internal::invalid(path, "scatter has " + std::to_string(n) + " x values, " +
                                       std::to_string(scatter.y.size()) + " y values and " +
                                       std::to_string(scatter.classes.size()) + " classes");
  }
  if (scatter.class_names.empty()) return internal::invalid(path, "scatter has no class names");
  if (!internal::all_finite(scatter.x) || !internal::all_finite(scatter.y)) {
    return internal::invalid(path, "scatter has a non-finite coordinate");
  }
  const int classes = static_cast<int>(scatter.class_names.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (scatter.classes[i] < 0 || scatter.classes[i] >= classes) {
      return internal::invalid(path, "point " + std::to_string(i) + " has class " +
                                         std::to_string(scatter.classes[i]) + ", not in 0.." +
                                         std::to_string(classes - 1));
    }
  }

  internal::Canvas canvas(size.width, size.height);
  const double W = size.width;
  const auto [x_lo, x_hi] = std::minmax_element(scatter.x.begin(), scatter.x.end());
  const auto [y_lo, y_hi] = std::minmax_element(scatter.y.begin(), scatter.y.end());
  internal::Axes axes;
  axes.x = internal::nice_ticks(*x_lo, *x_hi, 8, true);
  axes.y = internal::nice_ticks(*y_lo, *y_hi, 8, true);
  std::vector<LegendEntry> legend;
  legend.reserve(static_cast<std::size_t>(classes));
  for (int c = 0; c < classes; ++c) {
    legend.push_back({scatter.class_names[static_cast<std::size_t>(c)], internal::palette(c),
                      LegendEntry::Kind::kDot});
  }
  const double legend_w = internal::legend_width(canvas, legend, W * 0.3) + 10;
  axes.area =
      internal::layout_panel(canvas, internal::Rect{0, 0, W, static_cast<double>(size.height)},
                             scatter.labels, internal::tick_labels_width(canvas, axes.y),
                             canvas.text_height(internal::kTickFont), legend_w);
  internal::draw_axes(canvas, axes);

  cairo_t* cr = canvas.cr();
  const double radius = n > 5000 ? 2.0 : 3.0;
  for (std::size_t i = 0; i < n; ++i) {
    const internal::Rgb c = internal::palette(scatter.classes[i]);
    cairo_set_source_rgba(cr, c.r, c.g, c.b, 0.75);
    cairo_arc(cr, axes.px(scatter.x[i]), axes.py(scatter.y[i]), radius, 0, 2 * internal::kPi);
    cairo_fill(cr);
  }
  internal::draw_legend(canvas, axes.area.right() + 10, axes.area.y, legend, W * 0.3);
  return canvas.write_png(path);
}

}  // namespace mlflow::plot
