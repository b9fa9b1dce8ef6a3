// SPDX-License-Identifier: Apache-2.0
// Table, field and JSON printing for mlflowctl.
#include "output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace mlflowctl {

namespace {

/// Display width of UTF-8 text: code points, so names with accents still line up.
std::size_t width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

void print_row(const std::vector<std::string>& cells, const std::vector<std::size_t>& widths) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    line += cells[i];
    if (i + 1 < cells.size()) line.append(widths[i] - width(cells[i]) + 2, ' ');
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  fmt::print("{}\n", line);
}

}  // namespace

void Table::print() const {
  std::vector<std::size_t> widths(headers_.size(), 0);
  for (std::size_t i = 0; i < headers_.size(); ++i) widths[i] = width(headers_[i]);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], width(row[i]));
    }
  }
  print_row(headers_, widths);
  for (const auto& row : rows_) print_row(row, widths);
}

void print_fields(const Fields& fields) {
  std::size_t w = 0;
  for (const auto& f : fields) w = std::max(w, width(f.first) + 1);
  for (const auto& f : fields) {
    std::string label = f.first + ":";
    if (!f.second.empty()) label.append(w - width(label) + 2, ' ');
    fmt::print("{}{}\n", label, f.second);
  }
}

void print_heading(const std::string& title) { fmt::print("\n{}\n", title); }

void print_json(const nlohmann::json& value) {
  // Replace invalid UTF-8 rather than throw: names come from the server and local files.
  fmt::print("{}\n", value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string format_time(mlflow::TimestampMs ms) {
  if (ms <= 0) return {};
  auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return std::to_string(ms);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return fmt::format("{}", value);
}

}  // namespace mlflowctl
