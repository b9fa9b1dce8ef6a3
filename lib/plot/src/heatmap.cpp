// SPDX-License-Identifier: Apache-2.0
// Heatmaps (confusion matrices) with row/column labels, cell values and a colour bar.
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

using internal::Canvas;
using internal::Rgb;

// White to dark blue through a mid blue (like matplotlib's "Blues"); t in [0, 1].
Rgb blues(double t) {
  static constexpr Rgb kStops[3] = {
      {0.969, 0.984, 1.0}, {0.420, 0.682, 0.839}, {0.031, 0.188, 0.420}};
  t = std::clamp(t, 0.0, 1.0) * 2;
  const int i = std::min(1, static_cast<int>(t));
  const double f = t - i;
  const Rgb& a = kStops[i];
  const Rgb& b = kStops[i + 1];
  return {a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f};
}

constexpr double kDiagonal = 0.70710678118654752;  // sin 45°, for the rotated column labels
constexpr double kClassFont = 13;

}  // namespace

Status write_heatmap(const std::string& path, const Heatmap& heatmap, Size size) {
  MLFLOW_CPP_RETURN_IF_ERROR(internal::check_path_and_size(path, size));
  const std::size_t rows = heatmap.values.size();
  if (rows == 0) return internal::invalid(path, "heatmap has no rows");
  const std::size_t cols = heatmap.values[0].size();
  if (cols == 0) return internal::invalid(path, "heatmap has no columns");
  for (std::size_t r = 0; r < rows; ++r) {
    if (heatmap.values[r].size() != cols) {
      return internal::invalid(path, "heatmap row " + std::to_string(r) + " has " +
                                         std::to_string(heatmap.values[r].size()) +
                                         " values, row 0 has " + std::to_string(cols));
    }
    if (!internal::all_finite(heatmap.values[r])) {
      return internal::invalid(path,
                               "heatmap row " + std::to_string(r) + " has a non-finite value");
    }
  }
  if (heatmap.row_labels.size() != rows) {
    return internal::invalid(path, std::to_string(heatmap.row_labels.size()) + " row labels for " +
                                       std::to_string(rows) + " rows");
  }
  if (heatmap.column_labels.size() != cols) {
    return internal::invalid(path, std::to_string(heatmap.column_labels.size()) +
                                       " column labels for " + std::to_string(cols) + " columns");
  }
  if (heatmap.value_decimals < 0 || heatmap.value_decimals > 6) {
    return internal::invalid(path, "value_decimals must be in 0..6");
  }

  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& row : heatmap.values) {
    for (double v : row) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  const double span = hi > lo ? hi - lo : 1.0;

  Canvas canvas(size.width, size.height);
  const double W = size.width, H = size.height;
  const double pad = 12;
  const double label_h = canvas.text_height(internal::kLabelFont);
  const double bar_room = heatmap.colour_bar ? 100 : 0;
  const double top =
      pad + (heatmap.labels.title.empty() ? 0 : canvas.text_height(internal::kTitleFont) + pad);
  // Class names may take at most a quarter of the image; longer ones are shortened with "…".
  const double max_label = std::max(W, H) * 0.25;

  // Lay out with the normal class-name font; when the cells come out smaller than a line of that
  // font, neighbouring names would overlap, so shrink the font to the cell and lay out again.
  double class_font = kClassFont;
  std::vector<std::string> row_labels, col_labels;
  double class_h = 0, col_label_h = 0, cell = 0, avail_w = 0, avail_h = 0, left = 0;
  for (int pass = 0; pass < 2; ++pass) {
    class_h = canvas.text_height(class_font);
    row_labels.clear();
    col_labels.clear();
    double row_w = 0, col_w = 0;
    for (const std::string& s : heatmap.row_labels) {
      row_labels.push_back(canvas.fit_text(s, class_font, max_label));
      row_w = std::max(row_w, canvas.text_width(row_labels.back(), class_font));
    }
    for (const std::string& s : heatmap.column_labels) {
      col_labels.push_back(canvas.fit_text(s, class_font, max_label));
      col_w = std::max(col_w, canvas.text_width(col_labels.back(), class_font));
    }
    col_label_h = (col_w + class_h) * kDiagonal;
    left = pad + (heatmap.labels.y_label.empty() ? 0 : label_h + pad) + row_w + 8;
    const double bottom =
        pad + (heatmap.labels.x_label.empty() ? 0 : label_h + pad) + col_label_h + 8;
    avail_w = W - left - pad - bar_room;
    avail_h = H - top - bottom;
    cell = std::floor(
        std::min(avail_w / static_cast<double>(cols), avail_h / static_cast<double>(rows)));
    // Rotated names sit cell / sqrt(2) apart across their baselines.
    const double fitting = class_font * cell * kDiagonal / class_h;
    if (fitting >= class_font) break;
    class_font = std::max(6.0, fitting);
  }
  if (avail_w < static_cast<double>(cols) * 4 || avail_h < static_cast<double>(rows) * 4) {
    return internal::invalid(path, "image of " + std::to_string(size.width) + "x" +
                                       std::to_string(size.height) + " pixels is too small for a " +
                                       std::to_string(rows) + "x" + std::to_string(cols) +
                                       " heatmap with these labels");
  }
  // Square cells, the matrix centred in the space left.
  const double mw = cell * static_cast<double>(cols), mh = cell * static_cast<double>(rows);
  const double x0 = std::round(left + (avail_w - mw) / 2);
  const double y0 = std::round(top + (avail_h - mh) / 2);

  const double value_font = std::clamp(cell * 0.28, 7.0, 15.0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = heatmap.values[r][c];
      const double t = (v - lo) / span;
      const double cx = x0 + cell * static_cast<double>(c), cy = y0 + cell * static_cast<double>(r);
      canvas.fill_rect(cx, cy, cell, cell, blues(t));
      if (!heatmap.show_values) continue;
      const std::string text = internal::format_number(v, heatmap.value_decimals);
      if (canvas.text_width(text, value_font) > cell - 2) continue;  // would spill into neighbours
      canvas.text(cx + cell / 2, cy + cell / 2, text, value_font, 0.5, 0.5,
                  t > 0.55 ? internal::kWhite : internal::kBlack);
    }
  }
  canvas.stroke_rect(x0 + 0.5, y0 + 0.5, mw - 1, mh - 1, internal::kGrey);

  for (std::size_t r = 0; r < rows; ++r) {
    canvas.text(x0 - 8, y0 + cell * (static_cast<double>(r) + 0.5), row_labels[r], class_font, 1,
                0.5);
  }
  for (std::size_t c = 0; c < cols; ++c) {
    // Right end of each rotated label just under the centre of its column.
    canvas.text(x0 + cell * (static_cast<double>(c) + 0.5) + class_h * 0.3, y0 + mh + 6,
                col_labels[c], class_font, 1, 0.5, internal::kBlack, -internal::kPi / 4);
  }

  const Labels& labels = heatmap.labels;
  const std::string title = canvas.fit_text(labels.title, internal::kTitleFont, W - 2 * pad, true);
  const std::string x_label = canvas.fit_text(labels.x_label, internal::kLabelFont, W - 2 * pad);
  canvas.text(internal::centre_within(
                  x0 + mw / 2, canvas.text_width(title, internal::kTitleFont, true), pad, W - pad),
              pad, title, internal::kTitleFont, 0.5, 0, internal::kBlack, 0, true);
  canvas.text(internal::centre_within(x0 + mw / 2, canvas.text_width(x_label, internal::kLabelFont),
                                      pad, W - pad),
              y0 + mh + 8 + col_label_h + pad, x_label, internal::kLabelFont, 0.5, 0);
  canvas.text(pad, y0 + mh / 2, canvas.fit_text(labels.y_label, internal::kLabelFont, H - 2 * pad),
              internal::kLabelFont, 0.5, 0, internal::kBlack, -internal::kPi / 2);

  if (heatmap.colour_bar) {
    const double bx = x0 + mw + 24, bw = 18;
    for (int i = 0; i < static_cast<int>(mh); ++i) {
      canvas.fill_rect(bx, y0 + i, bw, 1, blues(1.0 - i / mh));
    }
    canvas.stroke_rect(bx + 0.5, y0 + 0.5, bw - 1, mh - 1, internal::kGrey);
    const internal::Ticks ticks = internal::nice_ticks(lo, hi > lo ? hi : lo + 1, 5, false);
    const int decimals = std::max(ticks.decimals, 0);
    for (double v : ticks.values) {
      const double y = std::round(y0 + mh - (v - lo) / span * mh) + 0.5;
      canvas.line(bx + bw, y, bx + bw + 4, y, internal::kBlack);
      canvas.text(bx + bw + 7, y, internal::format_number(v, decimals), internal::kTickFont, 0,
                  0.5);
    }
  }
  return canvas.write_png(path);
}

}  // namespace mlflow::plot
