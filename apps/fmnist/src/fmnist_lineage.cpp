// SPDX-License-Identifier: Apache-2.0
// Fashion-MNIST's splits as MLflow dataset inputs: which files, which selection, which schema.
#include "fmnist/fmnist_lineage.h"

#include <cstdio>

#include "mlflow/training/dataset_lineage.h"

namespace mlflow::fmnist {

using training::DatasetContext;

std::string fmnist_schema_json() {
  return training::tensor_schema_json({"float32", {-1, 1, 28, 28}}, {"int64", {-1}});
}

StatusOr<std::vector<DatasetInput>> fmnist_dataset_inputs(const std::string& dir,
                                                          const SplitOptions& options,
                                                          const FmnistSplitSizes& sizes) {
  const FmnistFiles train_files = fmnist_files(dir, FmnistPart::kTrain);
  const FmnistFiles test_files = fmnist_files(dir, FmnistPart::kTest);
  auto train_sha = training::sha256_files({train_files.images, train_files.labels});
  if (!train_sha.ok()) return train_sha.status();
  auto test_sha = training::sha256_files({test_files.images, test_files.labels});
  if (!test_sha.ok()) return test_sha.status();

  char fraction[32];
  std::snprintf(fraction, sizeof fraction, "%g", options.train_val_split);
  const std::string split =
      std::string(";train_val_split=") + fraction + ";seed=" + std::to_string(options.seed);
  const std::string schema = fmnist_schema_json();

  std::vector<DatasetInput> out;
  out.push_back(training::make_dataset_input({"fashion-mnist-train", dir, *train_sha,
                                              "part=train;subset=training" + split, sizes.train,
                                              training::DatasetContext::kTraining, schema}));
  out.push_back(training::make_dataset_input(
      {"fashion-mnist-validation", dir, *train_sha, "part=train;subset=validation" + split,
       sizes.validation, training::DatasetContext::kValidation, schema}));
  out.push_back(training::make_dataset_input({"fashion-mnist-test", dir, *test_sha, "", sizes.test,
                                              training::DatasetContext::kTest, schema}));
  return out;
}

}  // namespace mlflow::fmnist
