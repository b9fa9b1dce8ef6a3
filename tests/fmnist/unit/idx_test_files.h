// SPDX-License-Identifier: Apache-2.0
// Writes small gzip IDX files (well-formed or deliberately broken) for the reader tests.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mlflow::testing {

/// Big-endian header words followed by the payload, as raw (uncompressed) IDX bytes.
inline std::string idx_bytes(const std::vector<std::uint32_t>& header,
                             const std::vector<std::uint8_t>& payload) {
  std::string out;
  for (std::uint32_t w : header) {
    out += static_cast<char>((w >> 24) & 0xFF);
    out += static_cast<char>((w >> 16) & 0xFF);
    out += static_cast<char>((w >> 8) & 0xFF);
    out += static_cast<char>(w & 0xFF);
  }
  out.append(payload.begin(), payload.end());
  return out;
}

/// Writes `content` gzip-compressed to `path`.
inline void write_gzip(const std::string& path, const std::string& content) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("gzopen for writing failed: " + path);
  if (!content.empty() && gzwrite(f, content.data(), static_cast<unsigned>(content.size())) <= 0) {
    gzclose(f);
    throw std::runtime_error("gzwrite failed: " + path);
  }
  gzclose(f);
}

/// `n` images of rows x cols whose pixel p of image k is (k * 31 + p) % 256.
inline std::vector<std::uint8_t> pattern_pixels(std::uint32_t n, std::uint32_t rows = 28,
                                                std::uint32_t cols = 28) {
  std::vector<std::uint8_t> px(std::size_t{n} * rows * cols);
  for (std::size_t k = 0; k < n; ++k) {
    for (std::size_t p = 0; p < std::size_t{rows} * cols; ++p) {
      px[k * rows * cols + p] = static_cast<std::uint8_t>((k * 31 + p) % 256);
    }
  }
  return px;
}

/// A well-formed gzip IDX image file.
inline void write_images(const std::string& path, std::uint32_t n, std::uint32_t rows = 28,
                         std::uint32_t cols = 28) {
  write_gzip(path, idx_bytes({0x00000803, n, rows, cols}, pattern_pixels(n, rows, cols)));
}

/// A well-formed gzip IDX label file.
inline void write_labels(const std::string& path, const std::vector<std::uint8_t>& labels) {
  write_gzip(path, idx_bytes({0x00000801, static_cast<std::uint32_t>(labels.size())}, labels));
}

/// A Fashion-MNIST directory in `dir`: the four files under their real names, `train` and `test`
/// pattern images, image k labelled labels[k % labels.size()] (by default k % 10).
inline void write_fmnist_dir(const std::string& dir, std::uint32_t train, std::uint32_t test,
                             const std::vector<std::uint8_t>& labels = {0, 1, 2, 3, 4, 5, 6, 7, 8,
                                                                        9}) {
  for (const auto& [prefix, n] :
       {std::pair<const char*, std::uint32_t>{"train", train}, {"t10k", test}}) {
    std::vector<std::uint8_t> part_labels(n);
    for (std::uint32_t k = 0; k < n; ++k) part_labels[k] = labels[k % labels.size()];
    write_images(dir + "/" + prefix + "-images-idx3-ubyte.gz", n);
    write_labels(dir + "/" + prefix + "-labels-idx1-ubyte.gz", part_labels);
  }
}

}  // namespace mlflow::testing
