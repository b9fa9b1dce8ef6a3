// SPDX-License-Identifier: Apache-2.0
#include "score_inputs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "fmnist/fmnist_data.h"
#include "mlflow/ascii.h"
#include "mlflow/libtorch/idx_reader.h"
#include "mlflow/training/dataset_lineage.h"

namespace mlflow::score {
namespace fs = std::filesystem;
namespace {

constexpr std::int64_t kPixels = fmnist::kFmnistRows * fmnist::kFmnistCols;

bool is_image_file(const fs::path& path) {
  static const std::set<std::string> kExtensions = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tga",
                                                    ".psd", ".pnm", ".pgm",  ".ppm", ".hdr"};
  return kExtensions.count(ascii_lower(path.extension().string())) > 0;
}

StatusOr<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return Status(StatusCode::kInvalidArgument, path + ": cannot open the file");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status(StatusCode::kInvalidArgument, path + ": cannot read the file");
  return bytes;
}

// "0".."9" or a class name, as in a labels CSV.
int parse_label(const std::string& text) {
  for (int c = 0; c < fmnist::kFmnistNumClasses; ++c) {
    if (text == std::to_string(c) || text == fmnist::kFmnistClassNames[c]) return c;
  }
  return -1;
}

std::string trim(const std::string& s) {
  auto begin = s.find_first_not_of(" \t\r");
  auto end = s.find_last_not_of(" \t\r");
  return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

}  // namespace

StatusOr<ScoreInputs> ScoreInputs::open(const std::string& path,
                                        const serve::ImageInputOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    return Status(StatusCode::kNotFound, path + ": no such file or directory");
  ScoreInputs inputs;
  inputs.path_ = path;
  inputs.options_ = options;
  if (fs::is_directory(path, ec)) {
    inputs.kind_ = "images";
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file() && is_image_file(entry.path())) {
        inputs.names_.push_back(entry.path().filename().string());
      }
    }
    if (ec) return Status(StatusCode::kInvalidArgument, path + ": cannot list: " + ec.message());
    if (inputs.names_.empty()) {
      return Status(StatusCode::kInvalidArgument,
                    path + ": no image files (png, jpg, jpeg, bmp, gif, ...) in the directory");
    }
    std::sort(inputs.names_.begin(), inputs.names_.end());
    inputs.file_digests_.resize(inputs.names_.size());
    return inputs;
  }
  inputs.kind_ = "idx";
  auto images = libtorch::read_idx_images(path, fmnist::kFmnistRows, fmnist::kFmnistCols);
  if (!images.ok()) return images.status();
  inputs.idx_pixels_ = std::move(images->pixels);
  const std::string file = fs::path(path).filename().string();
  for (std::int64_t i = 0; i < images->n; ++i)
    inputs.names_.push_back(fmt::format("{}#{}", file, i));
  return inputs;
}

Status ScoreInputs::load(std::int64_t i, float* out) {
  if (kind_ == "idx") {
    const std::uint8_t* image = idx_pixels_.data() + i * kPixels;
    std::transform(image, image + kPixels, out, [](std::uint8_t v) { return v / 255.0F; });
    return ok_status();
  }
  const std::string file = (fs::path(path_) / name(i)).string();
  auto bytes = read_file(file);
  if (!bytes.ok()) return bytes.status();
  file_digests_[static_cast<std::size_t>(i)] = training::sha256_hex(*bytes);
  auto image = serve::image_to_input(*bytes, options_);
  if (!image.ok()) return image.status().with_context(file);
  std::copy(image->pixels.begin(), image->pixels.end(), out);
  return ok_status();
}

std::string ScoreInputs::digest() const {
  if (kind_ == "idx") {
    auto digest = training::sha256_file(path_);
    return digest.ok() ? *digest : std::string();
  }
  std::string lines;
  for (std::size_t i = 0; i < names_.size(); ++i) {
    lines += names_[i] + " " + file_digests_[i] + "\n";
  }
  return training::sha256_hex(lines);
}

StatusOr<std::vector<int>> ScoreInputs::labels(const std::string& labels_path) const {
  std::vector<int> labels(names_.size(), -1);
  std::string source = labels_path;
  if (source.empty() && kind_ == "idx") {
    std::string name = fs::path(path_).filename().string();
    auto at = name.find("images-idx3");
    if (at == std::string::npos) return labels;
    source = (fs::path(path_).parent_path() / name.replace(at, 11, "labels-idx1")).string();
    std::error_code ec;
    if (!fs::exists(source, ec)) return labels;
  }
  if (source.empty()) return labels;

  if (kind_ == "idx" || fs::path(source).extension() == ".gz") {
    auto read = libtorch::read_idx_labels(source, fmnist::kFmnistNumClasses);
    if (!read.ok()) return read.status();
    if (read->size() != labels.size()) {
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("{}: {} labels for {} images in {}", source, read->size(),
                                labels.size(), path_));
    }
    std::copy(read->begin(), read->end(), labels.begin());
    return labels;
  }
  auto text = read_file(source);
  if (!text.ok()) return text.status();
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < names_.size(); ++i) index[names_[i]] = i;
  std::istringstream lines(*text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    line = trim(line);
    if (line.empty()) continue;
    auto comma = line.rfind(',');
    if (comma == std::string::npos) {
      return Status(
          StatusCode::kInvalidArgument,
          fmt::format("{}:{}: expected \"file,label\", got \"{}\"", source, number, line));
    }
    std::string file = trim(line.substr(0, comma));
    int label = parse_label(trim(line.substr(comma + 1)));
    if (label < 0) {
      if (number == 1) continue;  // a header line
      return Status(StatusCode::kInvalidArgument,
                    fmt::format("{}:{}: the label must be 0..9 or a class name, got \"{}\"", source,
                                number, trim(line.substr(comma + 1))));
    }
    auto it = index.find(file);
    if (it != index.end()) labels[it->second] = label;
  }
  return labels;
}

}  // namespace mlflow::score
