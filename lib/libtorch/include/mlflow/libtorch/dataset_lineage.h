// SPDX-License-Identifier: Apache-2.0
// Dataset lineage: sha256 of source files and the MLflow dataset inputs of the Fashion-MNIST splits; LibTorch-free.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mlflow/libtorch/fmnist_data.h"
#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow::libtorch {

/// Longest dataset digest MLflow stores (characters).
inline constexpr std::size_t kMaxDatasetDigestLength = 36;

/// Lower-case hex sha256 of one file's bytes (OpenSSL EVP). kNotFound / kPermissionDenied / kInternal
/// with the path in the message. Thread-safety: a free function.
StatusOr<std::string> sha256_file(const std::string& path);

/// Lower-case hex sha256 of the files' contents in the given order, as if concatenated.
StatusOr<std::string> sha256_files(const std::vector<std::string>& paths);

/// Lower-case hex sha256 of a string.
std::string sha256_hex(const std::string& data);
/// Lower-case hex sha256 of `size` bytes at `data`.
std::string sha256_hex(const void* data, std::size_t size);

/// MLflow's value of the dataset-input tag mlflow.data.context.
enum class DatasetContext { kTraining, kValidation, kTest };
/// "training", "validation" or "test".
const char* dataset_context_name(DatasetContext context);

/// What identifies one split for lineage.
struct DatasetSpec {
  std::string name;          ///< e.g. "fashion-mnist-train"
  std::string source_uri;    ///< where the files are, e.g. the data directory
  std::string files_sha256;  ///< sha256_files() of the split's source files (64 hex characters)
  /// How the split was cut from the files, e.g. "part=train;train_val_split=0.8;seed=42"; empty when it is
  /// the whole file set. Changes the digest, because a different split is different data.
  std::string selection;
  std::int64_t num_rows = 0;
  DatasetContext context = DatasetContext::kTraining;
};

/// The digest MLflow stores: the first 36 hex characters of sha256(files_sha256 + "\n" + selection), or of
/// files_sha256 itself when selection is empty.
std::string dataset_digest(const std::string& files_sha256, const std::string& selection);

/// MLflow tensor-spec schema of Fashion-MNIST samples: features float32 [-1, 1, 28, 28], targets int64 [-1].
std::string fmnist_schema_json();

/// The dataset input for log-inputs: name, dataset_digest(), source_type "local", source {"uri": ...},
/// fmnist_schema_json(), profile {"num_rows": n, "files_sha256": ..., "selection": ...} and the tag
/// mlflow.data.context. Thread-safety: a pure function.
DatasetInput make_dataset_input(const DatasetSpec& spec);

/// Row counts of the three splits, as logged in each dataset's profile.
struct FmnistSplitSizes {
  std::int64_t train = 0;
  std::int64_t validation = 0;
  std::int64_t test = 0;
};

/// The dataset inputs of the three Fashion-MNIST splits read from `dir`, in the order training, validation,
/// test: names "fashion-mnist-train" / "-validation" / "-test", source {"uri": dir}, digests over the
/// part's two files (images then labels) and, for training and validation, the selection
/// "part=train;subset=<training|validation>;train_val_split=<f>;seed=<seed>". Reads both parts' files once
/// to hash them (~30 MB): kNotFound / kPermissionDenied naming the file.
/// Thread-safety: a free function.
StatusOr<std::vector<DatasetInput>> fmnist_dataset_inputs(const std::string& dir, const SplitOptions& options,
                                                          const FmnistSplitSizes& sizes);

}  // namespace mlflow::libtorch
