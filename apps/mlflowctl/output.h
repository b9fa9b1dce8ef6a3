// SPDX-License-Identifier: Apache-2.0
// Human output (aligned tables and "field: value" blocks) and JSON output for mlflowctl.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "mlflow/types.h"

namespace mlflowctl {

/// A table printed to stdout by mlflow::format_table (mlflow/text_table.h).
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add_row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  bool empty() const { return rows_.empty(); }
  void print() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

/// "name:  value" lines with the values aligned, to stdout.
using Fields = std::vector<std::pair<std::string, std::string>>;
void print_fields(const Fields& fields);

/// A section title for multi-part output, preceded by a blank line.
void print_heading(const std::string& title);

/// Pretty JSON on stdout.
void print_json(const nlohmann::json& value);

/// "2024-05-01 12:34:56 UTC"; empty for 0 (unset).
std::string format_time(mlflow::TimestampMs ms);

/// Text on one line for a table cell: newlines, carriage returns and tabs shown escaped.
std::string one_line(const std::string& text);

/// Shortest round-trip form of a metric value ("0.1", "nan", "inf").
std::string format_number(double value);

}  // namespace mlflowctl
