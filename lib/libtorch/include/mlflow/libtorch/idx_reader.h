// SPDX-License-Identifier: Apache-2.0
// Reader for gzip-compressed IDX files (the MNIST / Fashion-MNIST format); LibTorch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlflow/status.h"

namespace mlflow::libtorch {

/// Magic number of an IDX file of unsigned bytes with 3 dimensions (images: n x rows x cols).
inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;
/// Magic number of an IDX file of unsigned bytes with 1 dimension (labels: n).
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;

/// Images of one IDX file: `n` images of `rows` x `cols` unsigned bytes, row-major, image after
/// image.
struct IdxImages {
  std::vector<std::uint8_t> pixels;  ///< n * rows * cols bytes, 0 = background
  std::int64_t n = 0;                ///< number of images
  std::int64_t rows = 0;             ///< height of each image
  std::int64_t cols = 0;             ///< width of each image
};

/// Reads a gzip IDX image file and checks that every image is `rows` x `cols`.
/// Every error message starts with the path. Codes: kNotFound (no such file), kPermissionDenied
/// (unreadable), kInvalidArgument (not gzip, corrupt gzip data, wrong magic number, other
/// dimensions, truncated: "expected 47040000 bytes of pixels, got 1234", trailing data).
/// Thread-safety: a free function; concurrent calls are fine.
StatusOr<IdxImages> read_idx_images(const std::string& path, std::int64_t rows, std::int64_t cols);

/// Reads a gzip IDX label file; every label must be below `num_classes`.
/// Same error codes as read_idx_images(); a label out of range is kInvalidArgument naming its
/// index.
StatusOr<std::vector<std::uint8_t>> read_idx_labels(const std::string& path, int num_classes);

}  // namespace mlflow::libtorch
