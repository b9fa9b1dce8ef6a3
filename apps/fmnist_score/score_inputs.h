// SPDX-License-Identifier: Apache-2.0
// What fmnist_score scores: the images of a directory (through image_to_input) or an IDX images
// file (raw 28x28, / 255), with their labels when known and a digest of the inputs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "image_input.h"
#include "mlflow/status.h"

namespace mlflow::score {

/// The inputs of one scoring job, loaded one at a time.
class ScoreInputs {
 public:
  /// A directory: its files whose extension stb reads (png, jpg, jpeg, bmp, gif, tga, psd, pnm,
  /// pgm, ppm, hdr; case-insensitive), not recursive, sorted by name; kInvalidArgument when it has
  /// none. A file: a gzip IDX images file of 28x28 images. kNotFound when `path` is missing.
  static StatusOr<ScoreInputs> open(const std::string& path,
                                    const serve::ImageInputOptions& options = {});

  /// "images" (a directory) or "idx".
  const std::string& kind() const { return kind_; }
  /// Number of inputs.
  std::int64_t size() const { return static_cast<std::int64_t>(names_.size()); }
  /// The CSV's name of input i: the file name in the directory, or "FILE#INDEX" for IDX.
  const std::string& name(std::int64_t i) const { return names_[static_cast<std::size_t>(i)]; }
  /// Writes input i's 784 training-scale floats to `out`. An unreadable or undecodable image is
  /// kInvalidArgument (or the read error) naming the file.
  Status load(std::int64_t i, float* out);
  /// Lower-case hex sha256 of the inputs: of the IDX file, or of the lines "NAME SHA256\n" of the
  /// directory's files in order. Complete once every input was load()ed.
  std::string digest() const;

  /// The labels by input (-1: unknown), from `labels_path` when not empty: an IDX labels file, or
  /// a CSV of "file,label" lines (label 0..9 or a class name; a header line is allowed). Without
  /// it, an IDX input's sibling labels file (…-images-idx3-ubyte.gz -> …-labels-idx1-ubyte.gz) is
  /// used when it exists. All -1 when none is known. Bad files are kInvalidArgument naming the
  /// file and line.
  StatusOr<std::vector<int>> labels(const std::string& labels_path) const;

 private:
  std::string path_;
  std::string kind_;
  serve::ImageInputOptions options_;
  std::vector<std::string> names_;
  std::vector<std::uint8_t> idx_pixels_;   // IDX: every image
  std::vector<std::string> file_digests_;  // directory: sha256 per loaded file
};

}  // namespace mlflow::score
