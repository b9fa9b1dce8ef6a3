// SPDX-License-Identifier: Apache-2.0
// Classification report: confusion matrix, per-class P/R/F1, as JSON, PNG and text; LibTorch-free.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlflow/status.h"

// Thread-safety: every function here is pure (or writes only its own file); call concurrently.
namespace mlflow::training {

/// Scores of one class, sklearn-style with zero_division=0: precision is 0 when the class was never
/// predicted, recall 0 when it never occurs, F1 0 when precision + recall is 0.
struct ClassMetrics {
  std::string name;          ///< class name as given
  std::string key;           ///< metric_safe_name(name), used in metric keys such as test_f1_<key>
  double precision = 0;      ///< of the predictions of this class, the fraction that are right
  double recall = 0;         ///< of the samples of this class, the fraction predicted as it
  double f1 = 0;             ///< harmonic mean of precision and recall
  std::int64_t support = 0;  ///< how many samples have this true class
};

/// The evaluation of a classifier on one data set.
struct ClassificationReport {
  std::vector<std::string> class_names;  ///< class names, by class index
  /// counts[true][predicted], class_names.size() square.
  std::vector<std::vector<std::int64_t>> counts;
  std::vector<ClassMetrics> per_class;  ///< one per class, by class index
  double accuracy = 0;  ///< fraction of all samples predicted right (0 when there are none)
  /// Unweighted means over all classes (also those with no samples), as sklearn's macro average.
  double macro_precision = 0;
  double macro_recall = 0;  ///< see macro_precision
  double macro_f1 = 0;      ///< see macro_precision
  std::int64_t total = 0;   ///< number of samples

  /// counts with each true-class row divided by its sum (rows sum to 1); empty rows stay 0.
  std::vector<std::vector<double>> normalized() const;
};

/// Counts predictions against labels. kInvalidArgument when the sizes differ, a value is outside
/// [0, class_names.size()) (the message names the index and value), or class_names is empty. Empty
/// predictions and labels give a report with total 0 and all scores 0.
StatusOr<ClassificationReport> make_classification_report(
    const std::vector<std::int64_t>& predictions, const std::vector<std::int64_t>& labels,
    const std::vector<std::string>& class_names);

/// The report as a JSON object: {"class_names": [...], "counts": [[...]], "normalized": [[...]],
/// "per_class": [{"name", "key", "precision", "recall", "f1", "support"}], "accuracy",
/// "macro_precision", "macro_recall", "macro_f1", "total"}, pretty-printed with 2 spaces.
std::string confusion_matrix_json(const ClassificationReport& report);

/// A metric-key-safe lower-case name: "T-shirt/top" -> "t_shirt_top", "Ankle boot" -> "ankle_boot".
/// Runs of characters other than ASCII letters and digits become one '_', trimmed at both ends; a
/// name with no letters or digits gives "class".
std::string metric_safe_name(std::string_view name);

/// Writes a PNG heatmap (mlflow::plot::write_heatmap) of the row-normalised matrix, class names on
/// both axes ("true class" / "predicted class"), each cell showing its row fraction with 2
/// decimals, `title` on top. The file is replaced atomically. Errors as write_heatmap:
/// kInvalidArgument for an empty report or path, kFailedPrecondition (with the path) when the file
/// cannot be written.
Status write_confusion_matrix_png(const ClassificationReport& report, const std::string& path,
                                  const std::string& title);

/// A plain-text table for terminals: one row per class with precision, recall, F1 and support, then
/// accuracy and the macro average, like sklearn's classification_report. Ends with a newline.
std::string format_classification_table(const ClassificationReport& report);

/// The confusion matrix (counts) as text: rows = true class, labelled "INDEX NAME"; columns =
/// predicted class, headed by the index so ten long names fit a terminal. Ends with a newline.
std::string format_confusion_matrix(const ClassificationReport& report);

}  // namespace mlflow::training
