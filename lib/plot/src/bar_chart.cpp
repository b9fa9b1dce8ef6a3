// SPDX-License-Identifier: Apache-2.0
// Grouped bar charts (class distribution per split).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "canvas.h"
#include "checks.h"
#include "layout.h"
#include "mlflow/plot/charts.h"

namespace mlflow::plot {
namespace {

constexpr double kDiagonal = 0.70710678118654752;  // sin 45°

}  // namespace

Status write_bar_chart(const std::string& path, const BarChart& chart, Size size) {
  using internal::LegendEntry;
  MLFLOW_CPP_RETURN_IF_ERROR(internal::check_path_and_size(path, size));
  const std::size_t n = chart.categories.size();
  if (n == 0) return internal::invalid(path, "bar chart has no categories");
  if (chart.series.empty()) return internal::invalid(path, "bar chart has no series");
  double hi = 0;
  for (const BarSeries& s : chart.series) {
    if (s.values.size() != n) {
      return internal::invalid(path, "bar series '" + s.name + "' has " +
                                         std::to_string(s.values.size()) + " values for " +
                                         std::to_string(n) + " categories");
    }
    for (double v : s.values) {
      if (!std::isfinite(v) || v < 0) {
        return internal::invalid(path,
                                 "bar series '" + s.name + "' has a negative or non-finite value");
      }
      hi = std::max(hi, v);
    }
  }
  if (chart.value_decimals > 6) return internal::invalid(path, "value_decimals must be at most 6");

  internal::Canvas canvas(size.width, size.height);
  const double W = size.width;
  internal::Axes axes;
  axes.x = internal::Ticks{0, static_cast<double>(n), {}, 0};
  // Headroom above the tallest bar for its value label, and a little without one so that bars of a
  // round height (10% of a balanced split) do not end in the frame.
  axes.y =
      internal::nice_ticks(0, hi > 0 ? hi * (chart.value_decimals >= 0 ? 1.08 : 1.02) : 1, 6, true);

  const double max_label = W * 0.25;
  std::vector<std::string> labels;
  double label_w = 0;
  for (const std::string& c : chart.categories) {
    labels.push_back(canvas.fit_text(c, internal::kTickFont, max_label));
    label_w = std::max(label_w, canvas.text_width(labels.back(), internal::kTickFont));
  }
  const double tick_h = canvas.text_height(internal::kTickFont);
  std::vector<LegendEntry> legend;
  if (chart.series.size() > 1) {
    for (std::size_t i = 0; i < chart.series.size(); ++i) {
      legend.push_back(
          {chart.series[i].name, internal::palette(static_cast<int>(i)), LegendEntry::Kind::kBox});
    }
  }
  const double legend_w = legend.empty() ? 0 : internal::legend_width(canvas, legend, W * 0.3) + 10;
  axes.area = internal::layout_panel(
      canvas, internal::Rect{0, 0, W, static_cast<double>(size.height)}, chart.labels,
      internal::tick_labels_width(canvas, axes.y), (label_w + tick_h) * kDiagonal + 4, legend_w);
  internal::draw_axes(canvas, axes, false);

  const double slot = axes.area.w / static_cast<double>(n);
  const double group = slot * 0.8;
  const double bar = group / static_cast<double>(chart.series.size());
  const double value_font = std::clamp(bar * 0.45, 7.0, 12.0);
  for (std::size_t c = 0; c < n; ++c) {
    const double gx = axes.area.x + slot * static_cast<double>(c) + (slot - group) / 2;
    for (std::size_t s = 0; s < chart.series.size(); ++s) {
      const double v = chart.series[s].values[c];
      const double x = gx + bar * static_cast<double>(s);
      const double top = axes.py(v);
      canvas.fill_rect(x, top, bar - 1, axes.area.bottom() - top,
                       internal::palette(static_cast<int>(s)));
      if (chart.value_decimals < 0) continue;
      const std::string text = internal::format_number(v, chart.value_decimals);
      if (canvas.text_width(text, value_font) <= bar + 2) {
        canvas.text(x + bar / 2, top - 2, text, value_font, 0.5, 1);
      } else {
        // Too wide for the bar: write it upwards.
        canvas.text(x + bar / 2, top - 3, text, value_font, 0, 0.5, internal::kBlack,
                    -internal::kPi / 2);
      }
    }
    const double cx = axes.area.x + slot * (static_cast<double>(c) + 0.5);
    canvas.line(cx, axes.area.bottom(), cx, axes.area.bottom() + 4, internal::kBlack);
    canvas.text(cx + tick_h * 0.3, axes.area.bottom() + 6, labels[c], internal::kTickFont, 1, 0.5,
                internal::kBlack, -internal::kPi / 4);
  }
  internal::draw_legend(canvas, axes.area.right() + 10, axes.area.y, legend, W * 0.3);
  return canvas.write_png(path);
}

}  // namespace mlflow::plot
