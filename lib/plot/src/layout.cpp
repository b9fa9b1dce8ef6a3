// SPDX-License-Identifier: Apache-2.0
// Axes, ticks, panel layout and legends shared by the x/y charts.
#include "layout.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace mlflow::plot::internal {
namespace {

constexpr double kPad = 10;
constexpr double kLegendSwatch = 22;

}  // namespace

Ticks nice_ticks(double lo, double hi, int target, bool expand, bool integers) {
  if (!(hi > lo)) {
    // A single value: give it some room either side.
    const double half = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= half;
    hi += half;
  }
  const double raw = (hi - lo) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / magnitude;
  double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  if (integers) step = std::max(step, 1.0);
  Ticks ticks;
  const double first = std::ceil(lo / step - 1e-9);
  const double last = std::floor(hi / step + 1e-9);
  ticks.lo = expand ? std::min(lo, std::floor(lo / step + 1e-9) * step) : lo;
  ticks.hi = expand ? std::max(hi, std::ceil(hi / step - 1e-9) * step) : hi;
  const double from = expand ? std::round(ticks.lo / step) : first;
  const double to = expand ? std::round(ticks.hi / step) : last;
  // Ranges beyond double precision (a span of 1e-3 around 1e15, or wider than DBL_MAX) get plain
  // end ticks instead of a tick count that cannot be stepped through.
  if (!std::isfinite(step) || !(std::abs(from) < 1e12) || !(std::abs(to) < 1e12) ||
      to - from > 100) {
    Ticks plain;
    plain.lo = lo;
    plain.hi = hi;
    plain.values = {lo, hi};
    plain.decimals = 3;
    return plain;
  }
  for (int k = static_cast<int>(from); k <= static_cast<int>(to); ++k) {
    ticks.values.push_back(k * step);
  }
  ticks.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
  return ticks;
}

std::string format_number(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", std::clamp(decimals, 0, 12), value);
  std::string s = buf;
  if (s.size() > 1 && s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

double centre_within(double want, double width, double lo, double hi) {
  if (width >= hi - lo) return (lo + hi) / 2;
  return std::clamp(want, lo + width / 2, hi - width / 2);
}

double tick_labels_width(Canvas& canvas, const Ticks& ticks) {
  double width = 0;
  for (double v : ticks.values) {
    width = std::max(width, canvas.text_width(format_number(v, ticks.decimals), kTickFont));
  }
  return width;
}

Rect layout_panel(Canvas& canvas, const Rect& panel, const Labels& labels, double left_ticks,
                  double bottom_ticks, double right) {
  const double label_h = canvas.text_height(kLabelFont);
  const double top =
      panel.y + kPad + (labels.title.empty() ? kPad : canvas.text_height(kTitleFont) + 2 * kPad);
  const double left =
      panel.x + kPad + (labels.y_label.empty() ? 0 : label_h + kPad) + left_ticks + 8;
  const double bottom =
      panel.bottom() - kPad - (labels.x_label.empty() ? 0 : label_h + kPad) - bottom_ticks - 6;
  const double right_edge = panel.right() - 2 * kPad - right;
  Rect area{left, top, std::max(1.0, right_edge - left), std::max(1.0, bottom - top)};

  const double full_w = panel.w - 2 * kPad;
  const std::string title = canvas.fit_text(labels.title, kTitleFont, full_w, true);
  const std::string x_label = canvas.fit_text(labels.x_label, kLabelFont, full_w);
  canvas.text(centre_within(area.x + area.w / 2, canvas.text_width(title, kTitleFont, true),
                            panel.x + kPad, panel.right() - kPad),
              panel.y + kPad, title, kTitleFont, 0.5, 0, kBlack, 0, true);
  canvas.text(centre_within(area.x + area.w / 2, canvas.text_width(x_label, kLabelFont),
                            panel.x + kPad, panel.right() - kPad),
              panel.bottom() - kPad, x_label, kLabelFont, 0.5, 1);
  canvas.text(panel.x + kPad, area.y + area.h / 2,
              canvas.fit_text(labels.y_label, kLabelFont, panel.h - 2 * kPad), kLabelFont, 0.5, 0,
              kBlack, -kPi / 2);
  return area;
}

void draw_axes(Canvas& canvas, const Axes& axes, bool x_labels) {
  const Rect& a = axes.area;
  for (double v : axes.y.values) {
    const double y = std::round(axes.py(v)) + 0.5;
    canvas.line(a.x, y, a.right(), y, kLightGrey);
    canvas.line(a.x - 4, y, a.x, y, kBlack);
    canvas.text(a.x - 7, y, format_number(v, axes.y.decimals), kTickFont, 1, 0.5);
  }
  if (x_labels) {
    for (double v : axes.x.values) {
      const double x = std::round(axes.px(v)) + 0.5;
      canvas.line(x, a.y, x, a.bottom(), kLightGrey);
      canvas.line(x, a.bottom(), x, a.bottom() + 4, kBlack);
      canvas.text(x, a.bottom() + 6, format_number(v, axes.x.decimals), kTickFont, 0.5, 0);
    }
  }
  canvas.stroke_rect(std::round(a.x) + 0.5, std::round(a.y) + 0.5, std::round(a.w), std::round(a.h),
                     kBlack);
}

double legend_width(Canvas& canvas, const std::vector<LegendEntry>& entries, double max_width) {
  double width = 0;
  for (const LegendEntry& e : entries)
    width = std::max(width, canvas.text_width(e.name, kLegendFont));
  return std::min(max_width, width + kLegendSwatch + 3 * 8);
}

void draw_legend(Canvas& canvas, double x, double y, const std::vector<LegendEntry>& entries,
                 double max_width) {
  if (entries.empty()) return;
  const double width = legend_width(canvas, entries, max_width);
  const double row = canvas.text_height(kLegendFont) + 6;
  const double height = row * static_cast<double>(entries.size()) + 10;
  canvas.fill_rect(x, y, width, height, kWhite);
  canvas.stroke_rect(std::round(x) + 0.5, std::round(y) + 0.5, std::round(width),
                     std::round(height), kGrey);
  const double text_room = width - kLegendSwatch - 3 * 8;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const double cy = y + 5 + row * (static_cast<double>(i) + 0.5);
    const double sx = x + 8;
    switch (e.kind) {
      case LegendEntry::Kind::kLine:
        canvas.line(sx, cy, sx + kLegendSwatch, cy, e.colour, 2.5);
        break;
      case LegendEntry::Kind::kBox:
        canvas.fill_rect(sx + 3, cy - 7, kLegendSwatch - 6, 14, e.colour);
        break;
      case LegendEntry::Kind::kDot:
        cairo_set_source_rgb(canvas.cr(), e.colour.r, e.colour.g, e.colour.b);
        cairo_arc(canvas.cr(), sx + kLegendSwatch / 2, cy, 5, 0, 2 * kPi);
        cairo_fill(canvas.cr());
        break;
    }
    canvas.text(sx + kLegendSwatch + 8, cy, canvas.fit_text(e.name, kLegendFont, text_room),
                kLegendFont, 0, 0.5);
  }
}

}  // namespace mlflow::plot::internal
