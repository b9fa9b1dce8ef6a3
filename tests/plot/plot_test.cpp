// SPDX-License-Identifier: Apache-2.0
// mlflow::plot: PNG headers, sizes, determinism, input checks and atomic writes.
//
// Set MLFLOW_CPP_PLOT_SAMPLES=<dir> to also keep one picture of each kind there for a look.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "mlflow/plot/charts.h"
#include "support/test_support.h"

// fontconfig parses its configuration and cairo caches font faces once per process and keep both
// until exit by design (about 1 KB, the same however many charts are drawn). LeakSanitizer calls
// this hook in sanitizer builds; any other leak still fails the run.
extern "C" const char* __lsan_default_suppressions() { return "leak:libfontconfig.so\n"; }

namespace fs = std::filesystem;
using mlflow::StatusCode;
using mlflow::testing::read_file;
using mlflow::testing::TempDir;
using namespace mlflow::plot;

namespace {

const std::vector<std::string> kClasses = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                           "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                           "Bag",         "Ankle boot"};

struct PngHeader {
  bool valid = false;
  std::uint32_t width = 0;
  std::uint32_t height = 0;
};

std::uint32_t be32(const std::string& b, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(b[at + 3]));
}

// The 8-byte signature, then the IHDR chunk (length 13) with width and height; the file ends with
// IEND.
PngHeader png_header(const std::string& bytes) {
  PngHeader h;
  static const std::string kSignature("\x89PNG\r\n\x1a\n", 8);
  if (bytes.size() < 8 + 8 + 13 + 4 + 12 || bytes.compare(0, 8, kSignature) != 0) return h;
  if (be32(bytes, 8) != 13 || bytes.compare(12, 4, "IHDR") != 0) return h;
  if (bytes.compare(bytes.size() - 8, 4, "IEND") != 0) return h;
  h.width = be32(bytes, 16);
  h.height = be32(bytes, 20);
  h.valid = true;
  return h;
}

// Writes through `write` into `dir/name`, checks the PNG header and that a second write gives the
// same bytes, and copies the file to $MLFLOW_CPP_PLOT_SAMPLES when set.
template <typename Write>
void check_png(const std::string& dir, const std::string& name, int width, int height,
               Write write) {
  const std::string path = dir + "/" + name;
  const mlflow::Status st = write(path);
  REQUIRE_MESSAGE(st.ok(), st.to_string());
  const std::string bytes = read_file(path);
  const PngHeader h = png_header(bytes);
  CHECK(h.valid);
  CHECK(h.width == static_cast<std::uint32_t>(width));
  CHECK(h.height == static_cast<std::uint32_t>(height));
  REQUIRE(write(path).ok());
  CHECK(read_file(path) == bytes);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  CHECK(entries == 1);  // no temporary file left next to it
  if (const char* samples = std::getenv("MLFLOW_CPP_PLOT_SAMPLES")) {
    fs::create_directories(samples);
    fs::copy_file(path, fs::path(samples) / name, fs::copy_options::overwrite_existing);
  }
}

// A plausible confusion matrix: mostly diagonal, shirts confused with T-shirts, pullovers and
// coats.
std::vector<std::vector<double>> confusion_counts() {
  std::vector<std::vector<double>> m(10, std::vector<double>(10, 0));
  for (int r = 0; r < 10; ++r) {
    for (int c = 0; c < 10; ++c) m[r][c] = r == c ? 0 : (r * 7 + c * 3) % 5;
    m[r][r] = 1000;
  }
  m[6][0] = 110;
  m[6][2] = 70;
  m[6][4] = 60;
  m[6][6] = 640;
  m[0][6] = 90;
  m[2][4] = 55;
  m[4][2] = 65;
  m[9][7] = 30;
  m[7][9] = 35;
  for (int r = 0; r < 10; ++r) {
    double sum = 0;
    for (int c = 0; c < 10; ++c) sum += r == c ? 0 : m[r][c];
    m[r][r] = 1000 - sum;
  }
  return m;
}

Heatmap counts_heatmap() {
  Heatmap h;
  h.labels = {"Confusion matrix (counts), test set", "Predicted class", "True class"};
  h.values = confusion_counts();
  h.row_labels = kClasses;
  h.column_labels = kClasses;
  return h;
}

std::vector<LineChart> learning_curves(int epochs) {
  LineChart loss{{"Loss", "epoch", "cross-entropy loss"}, {}, 0, 0};
  LineChart acc{{"Accuracy", "epoch", "accuracy"}, {}, 0, 1};
  LineSeries tl{"train", {}, {}}, vl{"validation", {}, {}}, ta{"train", {}, {}},
      va{"validation", {}, {}};
  for (int e = 1; e <= epochs; ++e) {
    tl.x.push_back(e);
    tl.y.push_back(0.25 + 0.6 / e);
    vl.x.push_back(e);
    vl.y.push_back(0.30 + 0.5 / e + 0.004 * e);
    ta.x.push_back(e);
    ta.y.push_back(0.95 - 0.2 / e);
    va.x.push_back(e);
    va.y.push_back(0.92 - 0.18 / e - 0.001 * e);
  }
  loss.series = {tl, vl};
  acc.series = {ta, va};
  return {loss, acc};
}

BarChart class_distribution() {
  BarChart b;
  b.labels = {"Class distribution (2,000 sampled images per split)", "class", "images"};
  b.categories = kClasses;
  BarSeries train{"train", {}}, test{"test", {}};
  for (int c = 0; c < 10; ++c) {
    train.values.push_back(200 + (c * 37) % 23 - 11);
    test.values.push_back(200 + (c * 53) % 19 - 9);
  }
  b.series = {train, test};
  b.value_decimals = 0;
  return b;
}

Histogram pixel_histogram() {
  Histogram h;
  h.labels = {"Pixel intensity", "intensity (0..255)", "fraction of pixels"};
  for (int i = 0; i <= 32; ++i) h.bin_edges.push_back(i * 8.0);
  HistogramSeries train{"train", {}}, test{"test", {}};
  for (int i = 0; i < 32; ++i) {
    const double bump = std::exp(-std::pow((i - 24) / 5.0, 2));
    train.counts.push_back(i == 0 ? 30000 : 800 + 2500 * bump);
    test.counts.push_back(i == 0 ? 5200 : 150 + 420 * bump + (i % 3) * 10);
  }
  h.series = {train, test};
  h.normalize = true;
  return h;
}

Scatter pca_scatter() {
  Scatter s;
  s.labels = {"PCA of 2,000 sampled training images", "PC 1 (29.1% of variance)",
              "PC 2 (17.7% of variance)"};
  s.class_names = kClasses;
  std::uint32_t seed = 12345;
  auto uniform = [&seed] {
    seed = seed * 1664525u + 1013904223u;
    return (seed >> 8) / 16777216.0;
  };
  for (int i = 0; i < 2000; ++i) {
    const int c = i % 10;
    const double angle = c * 0.628;
    const double r = std::sqrt(-2 * std::log(uniform() + 1e-12)), t = 2 * M_PI * uniform();
    s.x.push_back(6 * std::cos(angle) + 1.8 * r * std::cos(t));
    s.y.push_back(4 * std::sin(angle) + 1.5 * r * std::sin(t));
    s.classes.push_back(c);
  }
  return s;
}

// 28x28 synthetic "garments": a bright blob whose shape depends on the class.
GrayImage synthetic_image(int cls, int k) {
  GrayImage im{28, 28, std::vector<std::uint8_t>(28 * 28), kClasses[static_cast<std::size_t>(cls)]};
  for (int y = 0; y < 28; ++y) {
    for (int x = 0; x < 28; ++x) {
      const double dx = (x - 13.5) / (4.0 + cls % 5 * 1.5 + k * 0.3),
                   dy = (y - 13.5) / (11.0 - cls % 3 * 2.5);
      const double d = dx * dx + dy * dy;
      im.pixels[static_cast<std::size_t>(y * 28 + x)] =
          d < 1 ? static_cast<std::uint8_t>(255 * (1 - d * 0.6)) : 0;
    }
  }
  return im;
}

ImageGrid sample_grid() {
  ImageGrid g;
  g.title = "Sample training images, 3 per class";
  g.columns = 10;
  for (int k = 0; k < 3; ++k) {
    for (int c = 0; c < 10; ++c) g.images.push_back(synthetic_image(c, k));
  }
  return g;
}

template <typename Write>
void check_rejected(StatusCode code, const std::string& fragment, Write write) {
  TempDir dir;
  const std::string path = dir.path() + "/chart.png";
  const mlflow::Status st = write(path);
  CHECK(st.code() == code);
  CHECK_MESSAGE(st.message().find(path) != std::string::npos, st.message());
  CHECK_MESSAGE(st.message().find(fragment) != std::string::npos, st.message());
  CHECK(fs::is_empty(dir.path()));
}

}  // namespace

TEST_CASE(
    "plot: heatmap of counts and of row-normalised values writes PNGs of the requested size") {
  TempDir dir;
  check_png(dir.path(), "confusion_matrix.png", 900, 800,
            [](const std::string& p) { return write_heatmap(p, counts_heatmap()); });
  Heatmap norm = counts_heatmap();
  norm.labels.title = "Confusion matrix (row-normalised), test set";
  for (auto& row : norm.values) {
    double sum = 0;
    for (double v : row) sum += v;
    for (double& v : row) v /= sum;
  }
  norm.value_decimals = 2;
  TempDir dir2;
  check_png(dir2.path(), "confusion_matrix_normalised.png", 1000, 900, [&](const std::string& p) {
    return write_heatmap(p, norm, {1000, 900});
  });
  TempDir dir3;
  norm.colour_bar = false;
  norm.show_values = false;
  check_png(dir3.path(), "heatmap_plain.png", 400, 300, [&](const std::string& p) {
    return write_heatmap(p, norm, {400, 300});
  });
}

TEST_CASE("plot: learning curves, one panel and two panels side by side") {
  TempDir dir;
  check_png(dir.path(), "curves.png", 1400, 560,
            [](const std::string& p) { return write_line_charts(p, learning_curves(15)); });
  TempDir dir2;
  check_png(dir2.path(), "loss.png", 800, 500, [](const std::string& p) {
    return write_line_chart(p, learning_curves(1)[0], {800, 500});
  });
}

TEST_CASE("plot: bar chart with one and with two series") {
  TempDir dir;
  check_png(dir.path(), "class_distribution.png", 1000, 600, [](const std::string& p) {
    return write_bar_chart(p, class_distribution(), {1000, 600});
  });
  BarChart one = class_distribution();
  one.series.resize(1);
  one.value_decimals = -1;
  TempDir dir2;
  check_png(dir2.path(), "bars.png", 640, 480, [&](const std::string& p) {
    return write_bar_chart(p, one, {640, 480});
  });
}

TEST_CASE("plot: histogram from bin counts, raw and normalised") {
  TempDir dir;
  check_png(dir.path(), "pixel_histogram.png", 900, 600,
            [](const std::string& p) { return write_histogram(p, pixel_histogram()); });
  Histogram raw = pixel_histogram();
  raw.normalize = false;
  raw.series.resize(1);
  raw.labels.y_label = "pixels";
  TempDir dir2;
  check_png(dir2.path(), "histogram_raw.png", 700, 400, [&](const std::string& p) {
    return write_histogram(p, raw, {700, 400});
  });
}

TEST_CASE("plot: scatter coloured by class") {
  TempDir dir;
  check_png(dir.path(), "pca.png", 1000, 800,
            [](const std::string& p) { return write_scatter(p, pca_scatter()); });
}

TEST_CASE("plot: image grid has the documented size") {
  const ImageGrid grid = sample_grid();
  const Size size = image_grid_size(grid);
  CHECK(size.width == 2 * 16 + 10 * (3 * 28 + 16));
  CHECK(size.height == 2 * 16 + 40 + 3 * (3 * 28 + 30));
  TempDir dir;
  check_png(dir.path(), "sample_images.png", size.width, size.height,
            [&](const std::string& p) { return write_image_grid(p, grid); });

  ImageGrid means;
  means.title = "Mean image per class";
  means.columns = 5;
  means.scale = 4;
  means.invert = true;
  for (int c = 0; c < 10; ++c) means.images.push_back(synthetic_image(c, 1));
  TempDir dir2;
  const Size mean_size = image_grid_size(means);
  CHECK(mean_size.width == 2 * 16 + 5 * (4 * 28 + 16));
  check_png(dir2.path(), "mean_images.png", mean_size.width, mean_size.height,
            [&](const std::string& p) { return write_image_grid(p, means); });

  ImageGrid tiny;
  tiny.images.push_back(GrayImage{1, 1, {128}, ""});
  tiny.scale = 1;
  CHECK(image_grid_size(tiny).width == 64);
  TempDir dir3;
  check_png(dir3.path(), "tiny.png", 64, 64,
            [&](const std::string& p) { return write_image_grid(p, tiny); });
}

TEST_CASE("plot: extreme and constant values still give a picture") {
  TempDir dir;
  LineChart huge{{"Huge", "epoch", "value"}, {{"a", {1, 2}, {1e15, 1e15 + 0.1}}}, 0, 0};
  CHECK(write_line_chart(dir.path() + "/huge.png", huge).ok());
  LineChart wide{{"Wide", "epoch", "value"}, {{"a", {1, 2}, {-1e300, 1e300}}}, 0, 0};
  CHECK(write_line_chart(dir.path() + "/wide.png", wide).ok());
  LineChart flat{{"Flat", "epoch", "value"}, {{"a", {1, 2, 3}, {0, 0, 0}}}, 0, 0};
  CHECK(write_line_chart(dir.path() + "/flat.png", flat).ok());
  Heatmap zeros = counts_heatmap();
  for (auto& row : zeros.values) std::fill(row.begin(), row.end(), 0.0);
  CHECK(write_heatmap(dir.path() + "/zeros.png", zeros).ok());
  Histogram empty = pixel_histogram();
  for (auto& s : empty.series) std::fill(s.counts.begin(), s.counts.end(), 0.0);
  CHECK(write_histogram(dir.path() + "/empty.png", empty).ok());
}

TEST_CASE("plot: bad input is kInvalidArgument, names the path and writes nothing") {
  const StatusCode bad = StatusCode::kInvalidArgument;
  SUBCASE("heatmap") {
    Heatmap h = counts_heatmap();
    h.row_labels.pop_back();
    check_rejected(bad, "9 row labels for 10 rows",
                   [&](const std::string& p) { return write_heatmap(p, h); });
    h = counts_heatmap();
    h.values[3].pop_back();
    check_rejected(bad, "row 3 has 9 values",
                   [&](const std::string& p) { return write_heatmap(p, h); });
    h = counts_heatmap();
    h.column_labels.push_back("extra");
    check_rejected(bad, "11 column labels for 10 columns",
                   [&](const std::string& p) { return write_heatmap(p, h); });
    h.values.clear();
    check_rejected(bad, "no rows", [&](const std::string& p) { return write_heatmap(p, h); });
    h = counts_heatmap();
    h.values[0][0] = NAN;
    check_rejected(bad, "non-finite", [&](const std::string& p) { return write_heatmap(p, h); });
    check_rejected(bad, "too small", [&](const std::string& p) {
      return write_heatmap(p, counts_heatmap(), {64, 64});
    });
    check_rejected(bad, "image size 10x600", [&](const std::string& p) {
      return write_heatmap(p, counts_heatmap(), {10, 600});
    });
  }
  SUBCASE("line chart") {
    std::vector<LineChart> c = learning_curves(5);
    c[1].series[0].y.pop_back();
    check_rejected(bad, "series 'train' has 5 x values but 4 y values",
                   [&](const std::string& p) { return write_line_charts(p, c); });
    check_rejected(bad, "no line charts",
                   [&](const std::string& p) { return write_line_charts(p, {}); });
    LineChart empty;
    check_rejected(bad, "no series",
                   [&](const std::string& p) { return write_line_chart(p, empty); });
    empty.series.push_back(LineSeries{"loss", {}, {}});
    check_rejected(bad, "has no points",
                   [&](const std::string& p) { return write_line_chart(p, empty); });
  }
  SUBCASE("bar chart") {
    BarChart b = class_distribution();
    b.series[1].values.pop_back();
    check_rejected(bad, "'test' has 9 values for 10 categories",
                   [&](const std::string& p) { return write_bar_chart(p, b); });
    b = class_distribution();
    b.series[0].values[2] = -1;
    check_rejected(bad, "negative", [&](const std::string& p) { return write_bar_chart(p, b); });
    b.categories.clear();
    check_rejected(bad, "no categories",
                   [&](const std::string& p) { return write_bar_chart(p, b); });
  }
  SUBCASE("histogram") {
    Histogram h = pixel_histogram();
    h.series[0].counts.pop_back();
    check_rejected(bad, "has 31 counts for 32 bins",
                   [&](const std::string& p) { return write_histogram(p, h); });
    h = pixel_histogram();
    std::swap(h.bin_edges[3], h.bin_edges[4]);
    check_rejected(bad, "increase strictly",
                   [&](const std::string& p) { return write_histogram(p, h); });
    h.bin_edges = {1};
    check_rejected(bad, "at least 2 bin edges",
                   [&](const std::string& p) { return write_histogram(p, h); });
  }
  SUBCASE("scatter") {
    Scatter s = pca_scatter();
    s.classes[7] = 10;
    check_rejected(bad, "point 7 has class 10, not in 0..9",
                   [&](const std::string& p) { return write_scatter(p, s); });
    s = pca_scatter();
    s.y.pop_back();
    check_rejected(bad, "2000 x values, 1999 y values",
                   [&](const std::string& p) { return write_scatter(p, s); });
    s.x.clear();
    check_rejected(bad, "no points", [&](const std::string& p) { return write_scatter(p, s); });
  }
  SUBCASE("image grid") {
    ImageGrid g = sample_grid();
    g.images[4].pixels.pop_back();
    check_rejected(bad, "image 4 has 783 pixels, expected 28x28",
                   [&](const std::string& p) { return write_image_grid(p, g); });
    g = sample_grid();
    g.scale = 0;
    check_rejected(bad, "scale must be in 1..16",
                   [&](const std::string& p) { return write_image_grid(p, g); });
    g.images.clear();
    check_rejected(bad, "no images", [&](const std::string& p) { return write_image_grid(p, g); });
  }
  SUBCASE("empty path") {
    CHECK(write_scatter("", pca_scatter()).code() == bad);
    CHECK(write_image_grid("", sample_grid()).code() == bad);
  }
}

TEST_CASE("plot: an unwritable path is kFailedPrecondition naming the path, and leaves no file") {
  TempDir dir;
  SUBCASE("missing directory") {
    const std::string path = dir.path() + "/no/such/dir/curves.png";
    const mlflow::Status st = write_line_charts(path, learning_curves(3));
    CHECK(st.code() == StatusCode::kFailedPrecondition);
    CHECK_MESSAGE(st.message().find("cannot write PNG '" + path + "'") != std::string::npos,
                  st.message());
    CHECK_MESSAGE(st.message().find("No such file or directory") != std::string::npos,
                  st.message());
  }
  SUBCASE("parent is a file") {
    mlflow::testing::write_file(dir.path() + "/file", "x");
    const std::string path = dir.path() + "/file/pca.png";
    const mlflow::Status st = write_scatter(path, pca_scatter());
    CHECK(st.code() == StatusCode::kFailedPrecondition);
    CHECK_MESSAGE(st.message().find(path) != std::string::npos, st.message());
    CHECK(read_file(dir.path() + "/file") == "x");
  }
  SUBCASE("path is a directory") {
    fs::create_directory(dir.path() + "/confusion_matrix.png");
    const std::string path = dir.path() + "/confusion_matrix.png";
    const mlflow::Status st = write_heatmap(path, counts_heatmap());
    CHECK(st.code() == StatusCode::kFailedPrecondition);
    CHECK_MESSAGE(st.message().find(path) != std::string::npos, st.message());
    CHECK(fs::is_directory(path));
    std::size_t entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path())) ++entries;
    CHECK(entries == 1);  // the temporary file is gone
  }
}

TEST_CASE("plot: a failed write keeps the previous file, a good one replaces it") {
  TempDir dir;
  const std::string path = dir.path() + "/class_distribution.png";
  mlflow::testing::write_file(path, "previous");
  BarChart b = class_distribution();
  b.series[0].values.pop_back();
  CHECK(write_bar_chart(path, b).code() == StatusCode::kInvalidArgument);
  CHECK(read_file(path) == "previous");
  REQUIRE(write_bar_chart(path, class_distribution()).ok());
  CHECK(png_header(read_file(path)).valid);
}

TEST_CASE("plot: charts drawn concurrently equal the ones drawn one at a time") {
  TempDir dir;
  const std::string one = dir.path() + "/sequential.png";
  REQUIRE(write_heatmap(one, counts_heatmap()).ok());
  const std::string expected = read_file(one);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      const std::string p = dir.path() + "/t" + std::to_string(i) + ".png";
      ok[static_cast<std::size_t>(i)] =
          write_heatmap(p, counts_heatmap()).ok() &&
          write_scatter(dir.path() + "/s" + std::to_string(i) + ".png", pca_scatter()).ok();
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    CHECK(ok[static_cast<std::size_t>(i)] == 1);
    CHECK(read_file(dir.path() + "/t" + std::to_string(i) + ".png") == expected);
  }
}
