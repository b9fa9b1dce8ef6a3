// SPDX-License-Identifier: Apache-2.0
// Confusion matrix and per-class scores of a classifier, as JSON, a PNG heatmap and text tables.
#include "mlflow/training/classification_report.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "mlflow/plot/charts.h"

namespace mlflow::training {
namespace {

double ratio(std::int64_t num, std::int64_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

Status check_values(const std::vector<std::int64_t>& values, const char* what,
                    std::size_t classes) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i] < 0 || static_cast<std::uint64_t>(values[i]) >= classes) {
      return Status(StatusCode::kInvalidArgument,
                    std::string("make_classification_report: ") + what + "[" + std::to_string(i) +
                        "] = " + std::to_string(values[i]) + " is outside [0, " +
                        std::to_string(classes) + ")");
    }
  }
  return ok_status();
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string pad_left(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string pad_right(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

}  // namespace

std::vector<std::vector<double>> ClassificationReport::normalized() const {
  std::vector<std::vector<double>> out;
  out.reserve(counts.size());
  for (const auto& row : counts) {
    std::int64_t sum = 0;
    for (std::int64_t c : row) sum += c;
    std::vector<double> r(row.size(), 0.0);
    for (std::size_t j = 0; j < row.size(); ++j) r[j] = ratio(row[j], sum);
    out.push_back(std::move(r));
  }
  return out;
}

StatusOr<ClassificationReport> make_classification_report(
    const std::vector<std::int64_t>& predictions, const std::vector<std::int64_t>& labels,
    const std::vector<std::string>& class_names) {
  if (class_names.empty()) {
    return Status(StatusCode::kInvalidArgument, "make_classification_report: class_names is empty");
  }
  if (predictions.size() != labels.size()) {
    return Status(StatusCode::kInvalidArgument,
                  "make_classification_report: " + std::to_string(predictions.size()) +
                      " predictions but " + std::to_string(labels.size()) + " labels");
  }
  const std::size_t n = class_names.size();
  MLFLOW_CPP_RETURN_IF_ERROR(check_values(predictions, "predictions", n));
  MLFLOW_CPP_RETURN_IF_ERROR(check_values(labels, "labels", n));

  ClassificationReport r;
  r.class_names = class_names;
  r.counts.assign(n, std::vector<std::int64_t>(n, 0));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    ++r.counts[static_cast<std::size_t>(labels[i])][static_cast<std::size_t>(predictions[i])];
  }
  r.total = static_cast<std::int64_t>(labels.size());

  std::int64_t correct = 0;
  for (std::size_t c = 0; c < n; ++c) {
    std::int64_t tp = r.counts[c][c];
    std::int64_t actual = 0;     // row sum: samples of class c
    std::int64_t predicted = 0;  // column sum: predictions of class c
    for (std::size_t k = 0; k < n; ++k) {
      actual += r.counts[c][k];
      predicted += r.counts[k][c];
    }
    correct += tp;
    ClassMetrics m;
    m.name = class_names[c];
    m.key = metric_safe_name(class_names[c]);
    m.precision = ratio(tp, predicted);
    m.recall = ratio(tp, actual);
    m.f1 = m.precision + m.recall > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
    m.support = actual;
    r.macro_precision += m.precision;
    r.macro_recall += m.recall;
    r.macro_f1 += m.f1;
    r.per_class.push_back(std::move(m));
  }
  r.accuracy = ratio(correct, r.total);
  r.macro_precision /= static_cast<double>(n);
  r.macro_recall /= static_cast<double>(n);
  r.macro_f1 /= static_cast<double>(n);
  return r;
}

std::string confusion_matrix_json(const ClassificationReport& report) {
  nlohmann::json per_class = nlohmann::json::array();
  for (const auto& m : report.per_class) {
    per_class.push_back({{"name", m.name},
                         {"key", m.key},
                         {"precision", m.precision},
                         {"recall", m.recall},
                         {"f1", m.f1},
                         {"support", m.support}});
  }
  nlohmann::json j = {{"class_names", report.class_names},
                      {"counts", report.counts},
                      {"normalized", report.normalized()},
                      {"per_class", std::move(per_class)},
                      {"accuracy", report.accuracy},
                      {"macro_precision", report.macro_precision},
                      {"macro_recall", report.macro_recall},
                      {"macro_f1", report.macro_f1},
                      {"total", report.total}};
  // Class names come from the caller: replace invalid UTF-8 instead of throwing.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string metric_safe_name(std::string_view name) {
  std::string out;
  bool pending_sep = false;
  for (char ch : name) {
    const auto u = static_cast<unsigned char>(ch);
    const bool alnum = (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z');
    if (!alnum) {
      pending_sep = true;
      continue;
    }
    if (pending_sep && !out.empty()) out += '_';
    pending_sep = false;
    out += (u >= 'A' && u <= 'Z') ? static_cast<char>(u - 'A' + 'a') : ch;
  }
  return out.empty() ? "class" : out;
}

Status write_confusion_matrix_png(const ClassificationReport& report, const std::string& path,
                                  const std::string& title) {
  plot::Heatmap h;
  h.labels = {title, "predicted class", "true class"};
  h.values = report.normalized();
  h.row_labels = report.class_names;
  h.column_labels = report.class_names;
  h.value_decimals = 2;
  return plot::write_heatmap(path, h);
}

std::string format_classification_table(const ClassificationReport& report) {
  std::size_t name_w = std::string("macro avg").size();
  for (const auto& m : report.per_class) name_w = std::max(name_w, m.name.size());
  const std::size_t col_w = 10;
  auto row = [&](const std::string& name, const std::string& p, const std::string& r,
                 const std::string& f, const std::string& s) {
    return pad_right(name, name_w) + pad_left(p, col_w) + pad_left(r, col_w) + pad_left(f, col_w) +
           pad_left(s, col_w) + "\n";
  };
  std::string out = row("", "precision", "recall", "f1-score", "support") + "\n";
  for (const auto& m : report.per_class) {
    out += row(m.name, fixed(m.precision, 4), fixed(m.recall, 4), fixed(m.f1, 4),
               std::to_string(m.support));
  }
  out += "\n";
  out += row("accuracy", "", "", fixed(report.accuracy, 4), std::to_string(report.total));
  out += row("macro avg", fixed(report.macro_precision, 4), fixed(report.macro_recall, 4),
             fixed(report.macro_f1, 4), std::to_string(report.total));
  return out;
}

std::string format_confusion_matrix(const ClassificationReport& report) {
  const std::size_t n = report.class_names.size();
  if (n == 0) return "(no classes)\n";
  std::size_t label_w = 0;
  std::vector<std::string> labels;
  for (std::size_t i = 0; i < n; ++i) {
    labels.push_back(pad_left(std::to_string(i), std::to_string(n - 1).size()) + " " +
                     report.class_names[i]);
    label_w = std::max(label_w, labels.back().size());
  }
  std::size_t cell_w = std::to_string(n - 1).size();
  for (const auto& r : report.counts) {
    for (std::int64_t c : r) cell_w = std::max(cell_w, std::to_string(c).size());
  }
  cell_w += 2;
  std::string out = "rows: true class, columns: predicted class\n";
  out += std::string(label_w, ' ');
  for (std::size_t j = 0; j < n; ++j) out += pad_left(std::to_string(j), cell_w);
  out += "\n";
  for (std::size_t i = 0; i < n; ++i) {
    out += pad_right(labels[i], label_w);
    for (std::size_t j = 0; j < n && i < report.counts.size() && j < report.counts[i].size(); ++j) {
      out += pad_left(std::to_string(report.counts[i][j]), cell_w);
    }
    out += "\n";
  }
  return out;
}

}  // namespace mlflow::training
