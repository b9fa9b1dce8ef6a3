// SPDX-License-Identifier: Apache-2.0
// Histograms from precomputed bin counts, several series overlaid.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "canvas.h"
#include "checks.h"
#include "layout.h"
#include "mlflow/plot/charts.h"

namespace mlflow::plot {

Status write_histogram(const std::string& path, const Histogram& histogram, Size size) {
  using internal::LegendEntry;
  MLFLOW_CPP_RETURN_IF_ERROR(internal::check_path_and_size(path, size));
  const std::vector<double>& edges = histogram.bin_edges;
  if (edges.size() < 2) return internal::invalid(path, "histogram needs at least 2 bin edges");
  if (!internal::all_finite(edges))
    return internal::invalid(path, "histogram bin edges must be finite");
  for (std::size_t i = 1; i < edges.size(); ++i) {
    if (!(edges[i] > edges[i - 1]))
      return internal::invalid(path, "histogram bin edges must increase strictly");
  }
  const std::size_t bins = edges.size() - 1;
  if (histogram.series.empty()) return internal::invalid(path, "histogram has no series");
  std::vector<std::vector<double>> heights;
  double hi = 0;
  for (const HistogramSeries& s : histogram.series) {
    if (s.counts.size() != bins) {
      return internal::invalid(path, "histogram series '" + s.name + "' has " +
                                         std::to_string(s.counts.size()) + " counts for " +
                                         std::to_string(bins) + " bins");
    }
    double total = 0;
    for (double v : s.counts) {
      if (!std::isfinite(v) || v < 0) {
        return internal::invalid(
            path, "histogram series '" + s.name + "' has a negative or non-finite count");
      }
      total += v;
    }
    std::vector<double> h = s.counts;
    if (histogram.normalize && total > 0) {
      for (double& v : h) v /= total;
    }
    for (double v : h) hi = std::max(hi, v);
    heights.push_back(std::move(h));
  }

  internal::Canvas canvas(size.width, size.height);
  const double W = size.width;
  internal::Axes axes;
  axes.x = internal::nice_ticks(edges.front(), edges.back(), 8, false);
  axes.y = internal::nice_ticks(0, hi > 0 ? hi : 1, 6, true);
  std::vector<LegendEntry> legend;
  if (histogram.series.size() > 1) {
    for (std::size_t i = 0; i < histogram.series.size(); ++i) {
      legend.push_back({histogram.series[i].name, internal::palette(static_cast<int>(i)),
                        LegendEntry::Kind::kBox});
    }
  }
  const double legend_w = legend.empty() ? 0 : internal::legend_width(canvas, legend, W * 0.3) + 10;
  axes.area =
      internal::layout_panel(canvas, internal::Rect{0, 0, W, static_cast<double>(size.height)},
                             histogram.labels, internal::tick_labels_width(canvas, axes.y),
                             canvas.text_height(internal::kTickFont), legend_w);
  internal::draw_axes(canvas, axes);

  cairo_t* cr = canvas.cr();
  const bool overlaid = histogram.series.size() > 1;
  for (std::size_t s = 0; s < heights.size(); ++s) {
    const internal::Rgb c = internal::palette(static_cast<int>(s));
    for (std::size_t b = 0; b < bins; ++b) {
      const double x1 = axes.px(edges[b]), x2 = axes.px(edges[b + 1]), y = axes.py(heights[s][b]);
      canvas.fill_rect(x1, y, x2 - x1, axes.area.bottom() - y, c, overlaid ? 0.4 : 0.85);
    }
    // The outline as a step line keeps each series readable where they overlap.
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    cairo_set_line_width(cr, 1.5);
    cairo_move_to(cr, axes.px(edges[0]), axes.area.bottom());
    for (std::size_t b = 0; b < bins; ++b) {
      const double y = axes.py(heights[s][b]);
      cairo_line_to(cr, axes.px(edges[b]), y);
      cairo_line_to(cr, axes.px(edges[b + 1]), y);
    }
    cairo_line_to(cr, axes.px(edges[bins]), axes.area.bottom());
    cairo_stroke(cr);
  }
  internal::draw_legend(canvas, axes.area.right() + 10, axes.area.y, legend, W * 0.3);
  return canvas.write_png(path);
}

}  // namespace mlflow::plot
