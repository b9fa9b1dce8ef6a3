// SPDX-License-Identifier: Apache-2.0
// drift_reference.json: a DriftReference as a versioned JSON file, logged beside a model's MLmodel.
// LibTorch-free (mlflow::fmnist_drift).
#pragma once

#include <string>

#include "fmnist/drift_reference.h"
#include "mlflow/status.h"

namespace mlflow::fmnist {

/// The file's name in a logged model's artifacts.
inline constexpr const char* kDriftReferenceFileName = "drift_reference.json";
/// The format version written; readers refuse other versions.
inline constexpr int kDriftReferenceFormatVersion = 1;

/// The JSON text: {"format_version": 1, "source", "images", "num_classes", "bins": {"continuous",
/// "background_level"}, "histograms": {"predicted_class", "top_probability", "entropy",
/// "mean_intensity", "background_fraction"}, "thresholds": {"window_size", "false_alarm_rate",
/// "calibration_windows", "quantile", "limits": {"class_chi2", ...}}}. Thread-safety: a pure
/// function.
std::string drift_reference_json(const DriftReference& reference);

/// Parses drift_reference_json()'s text. kInvalidArgument naming `source` (a file or URI) and the
/// key when it is not JSON, has another format_version or other bins, or a key is missing or
/// malformed (a histogram of the wrong length or with a negative count, a limit that is not a
/// number). Thread-safety: a pure function.
StatusOr<DriftReference> parse_drift_reference(const std::string& json_text,
                                               const std::string& source);

/// Reads and parses the file at `path`: kNotFound when it cannot be read, parse errors as above.
StatusOr<DriftReference> load_drift_reference(const std::string& path);

/// Writes the file at `path` (replacing it); kInternal naming the path when it cannot be written.
Status save_drift_reference(const DriftReference& reference, const std::string& path);

}  // namespace mlflow::fmnist
