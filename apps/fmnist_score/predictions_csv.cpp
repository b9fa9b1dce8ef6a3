// SPDX-License-Identifier: Apache-2.0
#include "predictions_csv.h"

#include <algorithm>

#include <fmt/format.h>

namespace mlflow::score {
namespace {

std::string field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

}  // namespace

int predicted_class(const std::vector<float>& probabilities) {
  if (probabilities.empty()) return -1;
  return static_cast<int>(std::max_element(probabilities.begin(), probabilities.end()) -
                          probabilities.begin());
}

std::string predictions_csv(const std::vector<PredictionRow>& rows,
                            const std::vector<std::string>& class_names) {
  std::string csv = "file,label,predicted_class,class_name,top_probability";
  for (std::size_t c = 0; c < class_names.size(); ++c) csv += fmt::format(",p_{}", c);
  csv += ",error\n";
  for (const PredictionRow& row : rows) {
    csv += field(row.file) + ",";
    if (row.label >= 0) csv += std::to_string(row.label);
    int top = predicted_class(row.probabilities);
    if (top >= 0) {
      const auto index = static_cast<std::size_t>(top);
      csv += fmt::format(",{},{},{:.6f}", top,
                         field(index < class_names.size() ? class_names[index] : ""),
                         row.probabilities[index]);
      for (float p : row.probabilities) csv += fmt::format(",{:.6f}", p);
    } else {
      csv += ",,,";
      csv += std::string(class_names.size(), ',');
    }
    csv += "," + field(row.error) + "\n";
  }
  return csv;
}

}  // namespace mlflow::score
