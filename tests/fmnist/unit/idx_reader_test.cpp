// SPDX-License-Identifier: Apache-2.0
// Tests of the gzip IDX reader and the Fashion-MNIST part loader on small generated files.
#include "mlflow/libtorch/idx_reader.h"

#include <doctest/doctest.h>

#include <cstdlib>

#include "fmnist/fmnist_data.h"
#include "idx_test_files.h"
#include "support/test_support.h"

namespace mlflow::fmnist {
namespace {

using testing::idx_bytes;
using testing::pattern_pixels;
using testing::TempDir;
using testing::write_gzip;
using testing::write_images;
using testing::write_labels;

TEST_CASE("idx reader: reads images and labels exactly") {
  TempDir dir;
  const std::string images = dir.path() + "/images.gz", labels = dir.path() + "/labels.gz";
  write_images(images, 3);
  write_labels(labels, {0, 9, 4});

  auto img = libtorch::read_idx_images(images, 28, 28);
  REQUIRE(img.ok());
  CHECK(img->n == 3);
  CHECK(img->rows == 28);
  CHECK(img->cols == 28);
  CHECK(img->pixels == pattern_pixels(3));

  auto lab = libtorch::read_idx_labels(labels, 10);
  REQUIRE(lab.ok());
  CHECK(*lab == std::vector<std::uint8_t>{0, 9, 4});
}

TEST_CASE("idx reader: other image sizes when asked for them, zero images") {
  TempDir dir;
  const std::string path = dir.path() + "/small.gz";
  write_images(path, 2, 3, 4);
  auto img = libtorch::read_idx_images(path, 3, 4);
  REQUIRE(img.ok());
  CHECK(img->pixels == pattern_pixels(2, 3, 4));

  write_images(path, 0);
  auto empty = libtorch::read_idx_images(path, 28, 28);
  REQUIRE(empty.ok());
  CHECK(empty->n == 0);
  CHECK(empty->pixels.empty());
}

TEST_CASE("idx reader: a missing file is NOT_FOUND and named") {
  TempDir dir;
  const std::string path = dir.path() + "/nope-images-idx3-ubyte.gz";
  auto img = libtorch::read_idx_images(path, 28, 28);
  REQUIRE_FALSE(img.ok());
  CHECK(img.status().code() == StatusCode::kNotFound);
  CHECK(img.status().message() == path + ": no such file");

  auto lab = libtorch::read_idx_labels(path, 10);
  CHECK(lab.status().code() == StatusCode::kNotFound);
  CHECK(lab.status().message() == path + ": no such file");
}

TEST_CASE("idx reader: an uncompressed file is rejected as not gzip") {
  TempDir dir;
  const std::string path = dir.path() + "/plain.idx";
  testing::write_file(path, idx_bytes({0x00000803, 1, 28, 28}, pattern_pixels(1)));
  auto img = libtorch::read_idx_images(path, 28, 28);
  CHECK(img.status().code() == StatusCode::kInvalidArgument);
  CHECK(img.status().message() ==
        path + ": not a gzip file (IDX files are read gzip-compressed, as Debian installs them)");
}

TEST_CASE("idx reader: a directory is not a regular file") {
  TempDir dir;
  auto img = libtorch::read_idx_images(dir.path(), 28, 28);
  CHECK(img.status().code() == StatusCode::kInvalidArgument);
  CHECK(img.status().message() == dir.path() + ": not a regular file");
}

TEST_CASE("idx reader: wrong magic numbers") {
  TempDir dir;
  const std::string labels_as_images = dir.path() + "/a.gz",
                    images_as_labels = dir.path() + "/b.gz";
  write_labels(labels_as_images, {1, 2});
  write_images(images_as_labels, 1);

  auto img = libtorch::read_idx_images(labels_as_images, 28, 28);
  CHECK(img.status().code() == StatusCode::kInvalidArgument);
  CHECK(img.status().message() ==
        labels_as_images +
            ": wrong magic number 0x00000801, expected 0x00000803 (IDX images of unsigned bytes)");

  auto lab = libtorch::read_idx_labels(images_as_labels, 10);
  CHECK(lab.status().message() ==
        images_as_labels +
            ": wrong magic number 0x00000803, expected 0x00000801 (IDX labels of unsigned bytes)");
}

TEST_CASE("idx reader: truncated header and truncated pixels") {
  TempDir dir;
  const std::string path = dir.path() + "/t.gz";

  write_gzip(path, idx_bytes({0x00000803, 3}, {}));
  CHECK(libtorch::read_idx_images(path, 28, 28).status().message() ==
        path + ": truncated header: no row count");

  write_gzip(path, std::string("\x00\x00", 2));
  CHECK(libtorch::read_idx_images(path, 28, 28).status().message() ==
        path + ": truncated header: no magic number");

  std::vector<std::uint8_t> px = pattern_pixels(3);
  px.resize(2 * 784 + 100);
  write_gzip(path, idx_bytes({0x00000803, 3, 28, 28}, px));
  auto img = libtorch::read_idx_images(path, 28, 28);
  CHECK(img.status().code() == StatusCode::kInvalidArgument);
  CHECK(img.status().message() == path + ": truncated: expected 2352 bytes of pixels, got 1668");

  write_gzip(path, idx_bytes({0x00000801, 5}, {1, 2}));
  CHECK(libtorch::read_idx_labels(path, 10).status().message() ==
        path + ": truncated: expected 5 bytes of labels, got 2");
}

TEST_CASE("idx reader: a gzip stream cut short reports the missing pixels") {
  TempDir dir;
  const std::string whole = dir.path() + "/whole.gz", cut = dir.path() + "/cut.gz";
  // Incompressible-ish pixels so that cutting the compressed file halves the data.
  std::vector<std::uint8_t> px(20 * 784);
  std::uint32_t x = 12345;
  for (auto& p : px) p = static_cast<std::uint8_t>((x = x * 1664525u + 1013904223u) >> 24);
  write_gzip(whole, idx_bytes({0x00000803, 20, 28, 28}, px));
  const std::string bytes = testing::read_file(whole);
  testing::write_file(cut, bytes.substr(0, bytes.size() / 2));

  auto img = libtorch::read_idx_images(cut, 28, 28);
  CHECK(img.status().code() == StatusCode::kInvalidArgument);
  const std::string prefix = cut + ": truncated: expected 15680 bytes of pixels, got ";
  CHECK(img.status().message().rfind(prefix, 0) == 0);
}

TEST_CASE("idx reader: corrupt gzip data") {
  TempDir dir;
  const std::string whole = dir.path() + "/whole.gz", bad = dir.path() + "/bad.gz";
  write_images(whole, 4);
  std::string bytes = testing::read_file(whole);
  for (std::size_t i = 12; i < bytes.size() - 8; ++i) bytes[i] = static_cast<char>(0xFF);
  testing::write_file(bad, bytes);
  auto img = libtorch::read_idx_images(bad, 28, 28);
  CHECK(img.status().code() == StatusCode::kInvalidArgument);
  CHECK(img.status().message().rfind(bad + ": corrupt gzip data: ", 0) == 0);
}

TEST_CASE("idx reader: wrong image size and trailing data") {
  TempDir dir;
  const std::string path = dir.path() + "/x.gz";
  write_images(path, 1, 28, 27);
  CHECK(libtorch::read_idx_images(path, 28, 28).status().message() ==
        path + ": images are 28x27, expected 28x28");

  std::vector<std::uint8_t> px = pattern_pixels(2);
  px.push_back(7);
  write_gzip(path, idx_bytes({0x00000803, 2, 28, 28}, px));
  CHECK(libtorch::read_idx_images(path, 28, 28).status().message() ==
        path + ": 1 bytes of trailing data after 1568 bytes of pixels");
}

TEST_CASE("idx reader: a label above 9 is named with its index") {
  TempDir dir;
  const std::string path = dir.path() + "/l.gz";
  write_labels(path, {3, 12, 4});
  auto lab = libtorch::read_idx_labels(path, 10);
  CHECK(lab.status().code() == StatusCode::kInvalidArgument);
  CHECK(lab.status().message() == path + ": label 12 at index 1 is out of range 0..9");
}

TEST_CASE("fmnist data: loads a part from a directory and checks the counts match") {
  TempDir dir;
  const FmnistFiles train = fmnist_files(dir.path(), FmnistPart::kTrain);
  CHECK(train.images == dir.path() + "/train-images-idx3-ubyte.gz");
  CHECK(train.labels == dir.path() + "/train-labels-idx1-ubyte.gz");
  const FmnistFiles test = fmnist_files(dir.path() + "/", FmnistPart::kTest);
  CHECK(test.images == dir.path() + "/t10k-images-idx3-ubyte.gz");
  CHECK(test.labels == dir.path() + "/t10k-labels-idx1-ubyte.gz");

  write_images(train.images, 3);
  write_labels(train.labels, {5, 6, 7});
  auto raw = load_fmnist_raw(dir.path(), FmnistPart::kTrain);
  REQUIRE(raw.ok());
  CHECK(raw->n == 3);
  CHECK(raw->labels == std::vector<std::uint8_t>{5, 6, 7});
  CHECK(raw->pixels == pattern_pixels(3));
  CHECK(raw->files.images == train.images);

  write_labels(train.labels, {5, 6});
  auto mismatch = load_fmnist_raw(dir.path(), FmnistPart::kTrain);
  CHECK(mismatch.status().code() == StatusCode::kInvalidArgument);
  CHECK(mismatch.status().message() ==
        train.images + " holds 3 images but " + train.labels + " holds 2 labels");

  auto missing = load_fmnist_raw(dir.path(), FmnistPart::kTest);
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() == test.images + ": no such file");
}

TEST_CASE("fmnist data: data directory precedence is flag, then environment, then default") {
  ::unsetenv(kFmnistDirEnv);
  CHECK(fmnist_data_dir() == "/usr/share/datasets/fashion-mnist");
  ::setenv(kFmnistDirEnv, "", 1);
  CHECK(fmnist_data_dir() == "/usr/share/datasets/fashion-mnist");
  ::setenv(kFmnistDirEnv, "/from/env", 1);
  CHECK(fmnist_data_dir() == "/from/env");
  CHECK(fmnist_data_dir("/from/flag") == "/from/flag");
  ::unsetenv(kFmnistDirEnv);
}

TEST_CASE("fmnist data: class names") {
  CHECK(kFmnistClassNames.size() == 10);
  CHECK(kFmnistClassNames[0] == "T-shirt/top");
  CHECK(kFmnistClassNames[9] == "Ankle boot");
}

}  // namespace
}  // namespace mlflow::fmnist
