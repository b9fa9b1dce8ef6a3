// SPDX-License-Identifier: Apache-2.0
// PNG charts for training and EDA reports: heatmap, line, bar, histogram, scatter, image grid.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlflow/status.h"

/// Every function here renders one chart and writes it to `path` as a PNG file.
///
/// Files: the PNG is written by mlflow::write_file_atomically (mlflow/atomic_file.h), so readers
/// never see a half-written image and a failure leaves no file behind (an existing file at `path`
/// is only replaced on success). The parent directory must exist.
///
/// Errors (no exceptions): kInvalidArgument for bad input (empty data, sizes that do not match,
/// non-finite values, a size outside [64, 8192] pixels, an empty path); kFailedPrecondition when
/// the file cannot be written (missing directory, no permission), with the path in the message;
/// kInternal when the renderer fails.
///
/// Output is deterministic: the same input gives byte-identical files.
///
/// Thread-safety: every function may be called concurrently from several threads.
namespace mlflow::plot {

/// Image size in pixels.
struct Size {
  int width = 900;   ///< pixels
  int height = 600;  ///< pixels
};

/// Texts around a chart; empty strings are left out.
struct Labels {
  std::string title;    ///< drawn above the chart
  std::string x_label;  ///< under the x axis
  std::string y_label;  ///< beside the y axis
};

/// A matrix drawn as coloured cells, e.g. a confusion matrix (rows = true class, columns =
/// predicted).
struct Heatmap {
  Labels labels;  ///< title and axis labels
  /// rows × columns values; every row has the same length.
  std::vector<std::vector<double>> values;
  /// One per row, drawn left of the matrix.
  std::vector<std::string> row_labels;
  /// One per column, drawn under the matrix, rotated 45° so long class names fit.
  std::vector<std::string> column_labels;
  /// Print each value in its cell with this many decimals, 0..6 (0 for counts, 2 for
  /// row-normalised). A value too wide for its cell is left out.
  int value_decimals = 0;
  /// Print the values in the cells at all.
  bool show_values = true;
  /// Draw a colour bar to the right.
  bool colour_bar = true;
};

/// Writes `heatmap` as a PNG of `size` pixels. Colours run from white (minimum) to dark blue
/// (maximum).
Status write_heatmap(const std::string& path, const Heatmap& heatmap, Size size = {900, 800});

/// One named line: y over x, same length, at least one point.
struct LineSeries {
  std::string name;       ///< legend entry
  std::vector<double> x;  ///< x values
  std::vector<double> y;  ///< y values, one per x
};

/// One panel of a line chart, with a legend of the series names.
struct LineChart {
  Labels labels;                   ///< title and axis labels
  std::vector<LineSeries> series;  ///< one or more lines
  /// When y_min < y_max, the y axis spans exactly [y_min, y_max] (e.g. 0..1 for accuracy);
  /// otherwise it is fitted to the data.
  double y_min = 0;
  double y_max = 0;  ///< see y_min
};

/// Writes one line chart.
Status write_line_chart(const std::string& path, const LineChart& chart, Size size = {900, 600});

/// Writes several line charts side by side in one PNG (e.g. loss and accuracy learning curves);
/// `size` is the whole image.
Status write_line_charts(const std::string& path, const std::vector<LineChart>& panels,
                         Size size = {1400, 560});

/// One named set of bar heights, one per category.
struct BarSeries {
  std::string name;            ///< legend entry
  std::vector<double> values;  ///< one height (≥ 0) per category
};

/// Grouped bars: for each category one bar per series (e.g. train and test class counts).
struct BarChart {
  Labels labels;  ///< title and axis labels
  /// Category names under the bars, rotated 45°.
  std::vector<std::string> categories;
  /// One or more series, each with one value (≥ 0) per category. A legend is drawn for two or more.
  std::vector<BarSeries> series;
  /// Print each value above its bar with this many decimals (at most 6); negative for none.
  int value_decimals = -1;
};

/// Writes a bar chart; values must be finite and non-negative.
Status write_bar_chart(const std::string& path, const BarChart& chart, Size size = {900, 600});

/// Precomputed bin counts of one series.
struct HistogramSeries {
  std::string name;  ///< legend entry
  /// One count (≥ 0) per bin.
  std::vector<double> counts;
};

/// A histogram of precomputed counts; several series are overlaid, translucent.
struct Histogram {
  Labels labels;  ///< title and axis labels
  /// Bin edges, strictly increasing: bins + 1 values.
  std::vector<double> bin_edges;
  std::vector<HistogramSeries> series;  ///< one or more series, each with one count per bin
  /// Draw each series as the fraction of its total per bin, so splits of different sizes compare.
  bool normalize = false;
};

/// Writes a histogram.
Status write_histogram(const std::string& path, const Histogram& histogram, Size size = {900, 600});

/// Points coloured by class, with a legend of class names (e.g. a 2-D PCA projection).
struct Scatter {
  Labels labels;          ///< title and axis labels
  std::vector<double> x;  ///< x of each point
  std::vector<double> y;  ///< y of each point
  /// Class index of each point, in [0, class_names.size()).
  std::vector<int> classes;
  std::vector<std::string> class_names;  ///< legend entries, by class index
};

/// Writes a scatter plot; up to 20 classes get distinct colours.
Status write_scatter(const std::string& path, const Scatter& scatter, Size size = {1000, 800});

/// A grayscale image: width × height bytes, row by row, 0 = black, 255 = white.
struct GrayImage {
  int width = 0;                     ///< pixels
  int height = 0;                    ///< pixels
  std::vector<std::uint8_t> pixels;  ///< width × height bytes, row by row
  /// Drawn under the image.
  std::string caption;
};

/// Layout of an image grid.
struct ImageGrid {
  std::string title;              ///< drawn above the grid (empty: none)
  std::vector<GrayImage> images;  ///< the images, row by row
  /// Images per row; the grid has ceil(images / columns) rows.
  int columns = 10;
  /// Each image pixel becomes scale × scale PNG pixels (1..16).
  int scale = 3;
  /// Show images inverted (255 = black), the usual look for Fashion-MNIST on white paper.
  bool invert = false;
};

/// Size of the PNG write_image_grid makes: cells of (scale·max image width + 16) × (scale·max image
/// height + 30) pixels, plus a 16-pixel margin around and 40 pixels for a non-empty title; at least
/// 64 × 64. Only meaningful for a grid write_image_grid accepts.
Size image_grid_size(const ImageGrid& grid);

/// Writes images in a grid, each with its caption underneath; images may differ in size.
Status write_image_grid(const std::string& path, const ImageGrid& grid);

}  // namespace mlflow::plot
