// SPDX-License-Identifier: Apache-2.0
// fmnist_score's output: one CSV row per input with its prediction, or the error that kept it out.
#pragma once

#include <string>
#include <vector>

namespace mlflow::score {

/// One scored (or skipped) input.
struct PredictionRow {
  std::string file;                  ///< ScoreInputs::name()
  int label = -1;                    ///< -1: unknown
  std::vector<float> probabilities;  ///< by class; empty when the input could not be read
  std::string error;                 ///< why it was skipped ("" when scored)
};

/// The CSV text: a header "file,label,predicted_class,class_name,top_probability,p_0..p_9,error"
/// (the p_ columns as many as `class_names`), then one line per row; an unknown label and a skipped
/// row's prediction are empty fields. Fields with commas, quotes or line breaks are quoted
/// (RFC 4180).
std::string predictions_csv(const std::vector<PredictionRow>& rows,
                            const std::vector<std::string>& class_names);

/// Index of the largest probability (the first on ties); -1 when empty.
int predicted_class(const std::vector<float>& probabilities);

}  // namespace mlflow::score
