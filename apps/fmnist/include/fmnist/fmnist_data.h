// SPDX-License-Identifier: Apache-2.0
// Fashion-MNIST on disk: file names, data directory, class names and the raw train/test parts;
// LibTorch-free.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::fmnist {

/// Where Debian's dataset-fashion-mnist package installs the gzip IDX files.
inline constexpr const char* kFmnistDefaultDir = "/usr/share/datasets/fashion-mnist";
/// Environment variable that overrides kFmnistDefaultDir (a flag overrides both).
inline constexpr const char* kFmnistDirEnv = "MLFLOW_CPP_FMNIST_DIR";

inline constexpr int kFmnistNumClasses = 10;
inline constexpr std::int64_t kFmnistRows = 28;
inline constexpr std::int64_t kFmnistCols = 28;

/// Class names by label, as in the data set's documentation.
inline constexpr std::array<std::string_view, kFmnistNumClasses> kFmnistClassNames = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

/// Mean and standard deviation of all 60 000 x 784 training pixels scaled to [0, 1]
/// (computed from Debian's train-images-idx3-ubyte.gz; a test recomputes them): 0.286041, 0.353024.
inline constexpr double kFmnistPixelMean = 0.2860406;
inline constexpr double kFmnistPixelStd = 0.3530242;
/// What a model's input holds (its MLmodel's flavors.libtorch.input_scale): the payload of
/// fmnist_serve and the ONNX graph; the models normalise it with the mean and std above.
inline constexpr const char* kFmnistInputScale =
    "pixel / 255: 0 is the black background, 1 white (a light garment on black)";

/// The official parts: 60 000 training images and 10 000 test images.
enum class FmnistPart { kTrain, kTest };

/// The two files of one part.
struct FmnistFiles {
  std::string images;  ///< e.g. <dir>/train-images-idx3-ubyte.gz
  std::string labels;  ///< e.g. <dir>/train-labels-idx1-ubyte.gz
};

/// The directory to read: `flag` when not empty, else $MLFLOW_CPP_FMNIST_DIR when set and not
/// empty, else kFmnistDefaultDir (precedence flag > env > default). Thread-safety: reads the
/// environment.
std::string fmnist_data_dir(const std::string& flag = {});

/// Paths of a part's files in `dir` (no file-system access).
FmnistFiles fmnist_files(const std::string& dir, FmnistPart part);

/// One part in memory, as stored in the files.
struct FmnistRaw {
  std::vector<std::uint8_t> pixels;  ///< n x rows x cols bytes
  std::vector<std::uint8_t> labels;  ///< n labels in 0..9
  std::int64_t n = 0;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  FmnistFiles files;  ///< where it was read from
};

/// Reads a part from `dir` and checks that images are 28x28 and that both files hold the same
/// count. Errors as read_idx_images() / read_idx_labels(); a count mismatch is kInvalidArgument
/// naming both files. Thread-safety: a free function; concurrent calls are fine.
StatusOr<FmnistRaw> load_fmnist_raw(const std::string& dir, FmnistPart part);

/// How the 60 000 training images are divided.
struct SplitOptions {
  double train_val_split = 0.8;  ///< fraction for training, in (0, 1); the rest is validation
  std::uint64_t seed = 42;       ///< seeds the permutation that picks the two subsets
};

/// Rows of the official training part in each subset, ascending.
struct SplitIndices {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> validation;
};

/// Splits rows 0..n-1: a seeded_permutation() of them, whose first round(n * train_val_split) rows
/// (at least one, at most n - 1) are the training rows, the rest validation rows; each subset is
/// then sorted. kInvalidArgument when train_val_split is outside (0, 1) or n < 2. Thread-safety: a
/// pure function.
StatusOr<SplitIndices> split_indices(std::int64_t n, const SplitOptions& options);

}  // namespace mlflow::fmnist
