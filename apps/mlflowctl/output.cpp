// SPDX-License-Identifier: Apache-2.0
// Table, field and JSON printing for mlflowctl.
#include "output.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "mlflow/text_table.h"

namespace mlflowctl {

void Table::print() const { fmt::print("{}", mlflow::format_table(headers_, rows_)); }

void print_fields(const Fields& fields) {
  std::size_t w = 0;
  for (const auto& f : fields) w = std::max(w, mlflow::display_width(f.first) + 1);
  for (const auto& f : fields) {
    std::string label = f.first + ":";
    if (!f.second.empty()) label.append(w - mlflow::display_width(label) + 2, ' ');
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
