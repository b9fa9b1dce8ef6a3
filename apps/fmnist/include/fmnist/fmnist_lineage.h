// SPDX-License-Identifier: Apache-2.0
// The MLflow dataset inputs of the Fashion-MNIST splits, built on mlflow::training's generic
// lineage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fmnist/fmnist_data.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow::fmnist {

/// MLflow tensor-spec schema of Fashion-MNIST samples: features float32 [-1, 1, 28, 28], targets
/// int64 [-1].
std::string fmnist_schema_json();

/// Row counts of the three splits, as logged in each dataset's profile.
struct FmnistSplitSizes {
  std::int64_t train = 0;
  std::int64_t validation = 0;
  std::int64_t test = 0;
};

/// The dataset inputs of the three Fashion-MNIST splits read from `dir`, in the order training,
/// validation, test: names "fashion-mnist-train" / "-validation" / "-test", source {"uri": dir},
/// digests over the part's two files (images then labels) and, for training and validation, the
/// selection "part=train;subset=<training|validation>;train_val_split=<f>;seed=<seed>". Reads both
/// parts' files once to hash them (~30 MB): kNotFound / kPermissionDenied naming the file.
/// Thread-safety: a free function.
StatusOr<std::vector<DatasetInput>> fmnist_dataset_inputs(const std::string& dir,
                                                          const SplitOptions& options,
                                                          const FmnistSplitSizes& sizes);

}  // namespace mlflow::fmnist
