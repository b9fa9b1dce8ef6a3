// SPDX-License-Identifier: Apache-2.0
#include "mlflow/text_table.h"

#include <algorithm>
#include <cstdlib>

namespace mlflow {

namespace {

bool is_number(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

}  // namespace

std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::size_t columns = header.size();
  for (const auto& r : rows) columns = std::max(columns, r.size());
  std::vector<std::size_t> width(columns, 0);
  std::vector<bool> numeric(columns, true);
  std::vector<bool> any(columns, false);
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = display_width(header[c]);
  for (const auto& r : rows) {
    for (std::size_t c = 0; c < r.size(); ++c) {
      width[c] = std::max(width[c], display_width(r[c]));
      if (r[c].empty()) continue;
      any[c] = true;
      numeric[c] = numeric[c] && is_number(r[c]);
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (std::size_t c = 0; c < columns; ++c) {
      const std::string cell = c < cells.size() ? cells[c] : std::string();
      const std::string pad(width[c] - display_width(cell), ' ');
      if (c > 0) out += "  ";
      out += (numeric[c] && any[c]) ? pad + cell : cell + pad;
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header);
  std::string dashes;
  for (std::size_t c = 0; c < columns; ++c) {
    if (c > 0) dashes += "  ";
    dashes += std::string(width[c], '-');
  }
  out += dashes + "\n";
  for (const auto& r : rows) out += line(r);
  return out;
}

}  // namespace mlflow
