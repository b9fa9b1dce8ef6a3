// SPDX-License-Identifier: Apache-2.0
// Dataset lineage: sha256 of source files, digests and the MLflow dataset input of one split of any
// data set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mlflow/status.h"
#include "mlflow/types.h"

namespace mlflow::training {

/// Longest dataset digest MLflow stores (characters).
inline constexpr std::size_t kMaxDatasetDigestLength = 36;

/// Lower-case hex sha256 of one file's bytes (OpenSSL EVP). kNotFound / kPermissionDenied /
/// kInternal with the path in the message. Thread-safety: a free function.
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

/// One tensor of a schema: numpy-style dtype ("float32", "int64", "uint8", ...) and shape, -1 for a
/// dimension of any size (the batch).
struct TensorSpec {
  std::string dtype;                ///< e.g. "float32"
  std::vector<std::int64_t> shape;  ///< sizes of the dimensions; -1 for the batch
};

/// MLflow's tensor-spec dataset schema (as its NumpyDataset writes it) of samples `features` with
/// labels `targets`, e.g. features {"float32", {-1, 1, 28, 28}}, targets {"int64", {-1}}.
std::string tensor_schema_json(const TensorSpec& features, const TensorSpec& targets);

/// What identifies one split for lineage.
struct DatasetSpec {
  std::string name;          ///< e.g. "fashion-mnist-train"
  std::string source_uri;    ///< where the files are, e.g. the data directory
  std::string files_sha256;  ///< sha256_files() of the split's source files (64 hex characters)
  /// How the split was cut from the files, e.g. "part=train;train_val_split=0.8;seed=42"; empty
  /// when it is the whole file set. Changes the digest, because a different split is different
  /// data.
  std::string selection;
  std::int64_t num_rows = 0;  ///< samples in the split
  /// the split's role: training, validation or test
  DatasetContext context = DatasetContext::kTraining;
  /// The dataset's schema, e.g. tensor_schema_json(...); empty logs none.
  std::string schema_json;
};

/// The digest MLflow stores: the first 36 hex characters of sha256(files_sha256 + "\n" +
/// selection), or of files_sha256 itself when selection is empty.
std::string dataset_digest(const std::string& files_sha256, const std::string& selection);

/// The dataset input for log-inputs: name, dataset_digest(), source_type "local", source {"uri":
/// ...}, spec.schema_json, profile {"num_rows": n, "files_sha256": ..., "selection": ...} and the
/// tag mlflow.data.context. Thread-safety: a pure function.
DatasetInput make_dataset_input(const DatasetSpec& spec);

}  // namespace mlflow::training
