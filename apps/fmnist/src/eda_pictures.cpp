// SPDX-License-Identifier: Apache-2.0
// The EDA's PNG pictures, drawn with mlflow::plot.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "fmnist/eda.h"
#include "mlflow/plot/charts.h"

namespace mlflow::fmnist {
namespace {

constexpr int kSamplesPerClass = 10;
constexpr int kLevelsPerHistogramBin = 5;

std::vector<double> percent_of_total(const std::vector<std::int64_t>& counts) {
  double total = 0;
  for (auto c : counts) total += static_cast<double>(c);
  std::vector<double> out;
  for (auto c : counts) out.push_back(total > 0 ? 100.0 * static_cast<double>(c) / total : 0.0);
  return out;
}

plot::GrayImage image_of(const FmnistRaw& split, std::int64_t row, std::string caption) {
  const auto bytes = static_cast<std::size_t>(split.rows * split.cols);
  const auto first =
      split.pixels.begin() + static_cast<std::ptrdiff_t>(static_cast<std::size_t>(row) * bytes);
  std::vector<std::uint8_t> pixels(first, first + static_cast<std::ptrdiff_t>(bytes));
  return {static_cast<int>(split.cols), static_cast<int>(split.rows), std::move(pixels),
          std::move(caption)};
}

// One row per class: its first kSamplesPerClass images in the sample; blank cells where a class has
// fewer.
plot::ImageGrid sample_grid(const EdaSplit& split, const std::vector<std::string>& names) {
  plot::ImageGrid grid;
  grid.title = "Fashion-MNIST " + split.name + " sample: " + std::to_string(kSamplesPerClass) +
               " images per class";
  grid.columns = kSamplesPerClass;
  grid.scale = 2;
  std::vector<std::vector<std::int64_t>> rows(names.size());
  for (std::int64_t i = 0; i < split.sample.n; ++i) {
    auto& r = rows[split.sample.labels[static_cast<std::size_t>(i)]];
    if (r.size() < kSamplesPerClass) r.push_back(i);
  }
  const auto image_bytes = static_cast<std::size_t>(split.sample.rows * split.sample.cols);
  const plot::GrayImage blank{static_cast<int>(split.sample.cols),
                              static_cast<int>(split.sample.rows),
                              std::vector<std::uint8_t>(image_bytes), "(none)"};
  for (std::size_t c = 0; c < names.size(); ++c) {
    for (std::size_t k = 0; k < kSamplesPerClass; ++k) {
      grid.images.push_back(k < rows[c].size() ? image_of(split.sample, rows[c][k], names[c])
                                               : blank);
    }
  }
  return grid;
}

plot::ImageGrid mean_image_grid(const EdaSplit& split, const std::vector<std::string>& names) {
  plot::ImageGrid grid;
  grid.title = "Mean image per class (" + split.name + ", " + std::to_string(split.stats.images) +
               " images)";
  grid.columns = 5;
  grid.scale = 4;
  for (std::size_t c = 0; c < names.size(); ++c) {
    plot::GrayImage im{
        static_cast<int>(split.sample.cols), static_cast<int>(split.sample.rows), {}, names[c]};
    for (double v : split.stats.class_mean_images[c]) {
      im.pixels.push_back(static_cast<std::uint8_t>(std::clamp(std::lround(v), 0L, 255L)));
    }
    grid.images.push_back(std::move(im));
  }
  return grid;
}

// Levels 1..255 in bins of kLevelsPerHistogramBin (255 = 51 x 5).
std::vector<double> foreground_histogram(const std::vector<std::int64_t>& levels) {
  std::vector<double> bins((levels.size() - 1) / kLevelsPerHistogramBin, 0.0);
  for (std::size_t v = 1; v < levels.size(); ++v) {
    bins[(v - 1) / kLevelsPerHistogramBin] += static_cast<double>(levels[v]);
  }
  return bins;
}

}  // namespace

StatusOr<std::vector<EdaPicture>> write_eda_pictures(const EdaResult& r, const std::string& dir) {
  const std::vector<std::string> names(kFmnistClassNames.begin(), kFmnistClassNames.end());
  std::vector<EdaPicture> pictures;
  auto add = [&](EdaPicture picture, auto&& write) -> Status {
    MLFLOW_CPP_RETURN_IF_ERROR(write(dir + "/" + picture.file));
    pictures.push_back(std::move(picture));
    return ok_status();
  };

  plot::BarChart classes;
  classes.labels = {"Class distribution per split", "class", "share of the split (%)"};
  classes.categories = names;
  for (const EdaSplit* s : {&r.train, &r.test}) {
    classes.series.push_back(
        {s->name + " (" + std::to_string(s->part_rows) + ")", percent_of_total(s->classes.counts)});
  }
  MLFLOW_CPP_RETURN_IF_ERROR(
      add({"class_distribution.png", "Class distribution",
           "Share of each class among all train and test images; imbalance = largest / "
           "smallest class count."},
          [&](const std::string& p) { return plot::write_bar_chart(p, classes); }));

  const plot::ImageGrid samples = sample_grid(r.train, names);
  MLFLOW_CPP_RETURN_IF_ERROR(
      add({"sample_grid.png", "Sample images",
           "The first " + std::to_string(kSamplesPerClass) +
               " sampled training images of each class, one class per row."},
          [&](const std::string& p) { return plot::write_image_grid(p, samples); }));

  // The black background (about half of all pixels) would flatten every other bin: it is left out
  // of the picture (not of the statistics) and its share is named in the title.
  plot::Histogram pixels;
  pixels.labels = {
      fmt::format(
          "Pixel intensities per split (background 0 left out: {:.0f}% of train, {:.0f}% of "
          "test pixels)",
          100 * r.train.stats.background_fraction, 100 * r.test.stats.background_fraction),
      "pixel value (1 = darkest, 255 = brightest)", "share of the non-background pixels"};
  for (int e = 1; e <= kPixelLevels; e += kLevelsPerHistogramBin) pixels.bin_edges.push_back(e);
  pixels.series = {{"train", foreground_histogram(r.train.stats.pixel_histogram)},
                   {"test", foreground_histogram(r.test.stats.pixel_histogram)}};
  pixels.normalize = true;
  MLFLOW_CPP_RETURN_IF_ERROR(
      add({"pixel_histogram.png", "Pixel intensities",
           "Share of the non-background pixels per bin of " +
               std::to_string(kLevelsPerHistogramBin) + " grey levels, train and test overlaid."},
          [&](const std::string& p) { return plot::write_histogram(p, pixels); }));

  const plot::ImageGrid means = mean_image_grid(r.train, names);
  MLFLOW_CPP_RETURN_IF_ERROR(
      add({"class_mean_images.png", "Mean image per class",
           "The pixel-wise mean of the analysed training images of each class."},
          [&](const std::string& p) { return plot::write_image_grid(p, means); }));

  plot::Scatter scatter;
  scatter.labels = {"PCA of the training images", "PC1", "PC2"};
  scatter.x = r.pca.x;
  scatter.y = r.pca.y;
  scatter.classes.assign(r.train.sample.labels.begin(), r.train.sample.labels.end());
  scatter.class_names = names;
  MLFLOW_CPP_RETURN_IF_ERROR(
      add({"pca_scatter.png", "PCA projection",
           "Each analysed training image on the first two principal components, coloured by "
           "class."},
          [&](const std::string& p) { return plot::write_scatter(p, scatter); }));

  plot::BarChart variance;
  variance.labels = {"Explained variance per principal component", "component",
                     "share of the variance (%)"};
  plot::BarSeries share{"explained variance", {}};
  for (std::size_t i = 0; i < r.pca.explained_variance_ratio.size(); ++i) {
    variance.categories.push_back("PC" + std::to_string(i + 1));
    share.values.push_back(100.0 * r.pca.explained_variance_ratio[i]);
  }
  variance.series = {share};
  variance.value_decimals = 1;
  MLFLOW_CPP_RETURN_IF_ERROR(
      add({"pca_explained_variance.png", "PCA explained variance",
           "Share of the total pixel variance along each of the first principal components."},
          [&](const std::string& p) { return plot::write_bar_chart(p, variance); }));
  return pictures;
}

}  // namespace mlflow::fmnist
