// SPDX-License-Identifier: Apache-2.0
// Tests of the whole EDA on generated IDX files: the analysis, its metrics, and the files (every
// picture is a PNG, listed in summary.json and embedded in the report).
#include "fmnist/eda.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

#include <nlohmann/json.hpp>

#include "idx_test_files.h"
#include "support/test_support.h"

namespace mlflow::fmnist {
namespace {

using testing::read_file;
using testing::TempDir;

struct Parts {
  FmnistRaw train;
  FmnistRaw test;
};

Parts generated_parts(const TempDir& dir, std::uint32_t train, std::uint32_t test) {
  testing::write_fmnist_dir(dir.path(), train, test);
  auto tr = load_fmnist_raw(dir.path(), FmnistPart::kTrain);
  auto te = load_fmnist_raw(dir.path(), FmnistPart::kTest);
  REQUIRE_MESSAGE(tr.ok(), tr.status().to_string());
  REQUIRE_MESSAGE(te.ok(), te.status().to_string());
  return {std::move(*tr), std::move(*te)};
}

// The EDA of generated parts of `train` and `test` images: a sample of `sample_size` from each, 0 =
// all.
EdaResult analysed(std::uint32_t train, std::uint32_t test, std::int64_t sample_size) {
  TempDir dir;
  const Parts parts = generated_parts(dir, train, test);
  EdaOptions options;
  options.all = sample_size == 0;
  options.sample_size = options.all ? 1 : sample_size;
  auto r = analyse_fmnist(parts.train, parts.test, options);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  return std::move(*r);
}

std::int64_t sum(const std::vector<std::int64_t>& v) {
  return std::accumulate(v.begin(), v.end(), std::int64_t{0});
}

TEST_CASE("eda: a sample of each generated split, with exact counts and shapes") {
  TempDir dir;
  const Parts parts = generated_parts(dir, 120, 60);
  EdaOptions options;
  options.sample_size = 50;
  auto r = analyse_fmnist(parts.train, parts.test, options);
  REQUIRE_MESSAGE(r.ok(), r.status().to_string());
  CHECK(r->train.part_rows == 120);
  CHECK(r->test.part_rows == 60);
  for (const EdaSplit* s : {&r->train, &r->test}) {
    CHECK(s->stats.images == 50);
    CHECK(sum(s->stats.class_counts) == 50);
    CHECK(sum(s->stats.pixel_histogram) == 50 * 784);
  }
  // The class distribution is of every image of the files, not of the sample: the generated parts
  // are balanced.
  CHECK(r->train.classes.counts == std::vector<std::int64_t>(10, 12));
  CHECK(r->test.classes.counts == std::vector<std::int64_t>(10, 6));
  CHECK(r->train.classes.imbalance == 1.0);
  CHECK(r->train.stats.imbalance > 1.0);  // 50 of 120 sampled cannot be balanced over 10 classes
  CHECK(eda_metrics(*r).at("train_class_imbalance") == 1.0);
  CHECK(r->drift.class_frequency.psi == 0.0);  // train and test parts have the same shares
  CHECK(r->pca.x.size() == 50);
  CHECK(r->pca.explained_variance_ratio.size() == 10);
  CHECK(r->normalisation.trainer_mean == kFmnistPixelMean);
  CHECK(r->normalisation.mean_difference ==
        doctest::Approx(r->train.stats.pixel_mean - kFmnistPixelMean));

  // The same seed samples the same images; --all takes every one.
  auto again = analyse_fmnist(parts.train, parts.test, options);
  REQUIRE(again.ok());
  CHECK(again->train.sample.pixels == r->train.sample.pixels);
  options.all = true;
  auto all = analyse_fmnist(parts.train, parts.test, options);
  REQUIRE(all.ok());
  CHECK(all->train.stats.images == 120);
  CHECK(all->test.stats.images == 60);
  CHECK(all->train.stats.class_counts == std::vector<std::int64_t>(10, 12));
  CHECK(all->train.stats.imbalance == 1.0);
}

TEST_CASE("eda: identical train and test data show no drift") {
  const EdaResult r = analysed(40, 40, 0);
  CHECK(r.drift.class_frequency.psi == 0.0);
  CHECK(r.drift.pixel_intensity.psi == 0.0);
  CHECK(*r.drift.pixel_intensity.ks == 0.0);
  CHECK(r.drift.overall == DriftLevel::kNone);
  const auto metrics = eda_metrics(r);
  CHECK(metrics.at("drift_level") == 0.0);
  CHECK(metrics.at("drift_pixel_intensity_ks") == 0.0);
}

TEST_CASE(
    "eda: the training sample's pixel statistics are checked against the trainer's constants") {
  TempDir dir;
  const Parts parts = generated_parts(dir, 40, 20);
  EdaOptions options;
  options.all = true;
  options.normalisation_tolerance = 1.0;  // every difference of [0, 1] values is within it
  auto wide = analyse_fmnist(parts.train, parts.test, options);
  REQUIRE_MESSAGE(wide.ok(), wide.status().to_string());
  const NormalisationCheck& n = wide->normalisation;
  CHECK(n.mean_difference == doctest::Approx(wide->train.stats.pixel_mean - kFmnistPixelMean));
  CHECK(n.std_difference == doctest::Approx(wide->train.stats.pixel_std - kFmnistPixelStd));
  CHECK(n.agree);
  // The generated images are not Fashion-MNIST: the default tolerance sees their statistics
  // disagree.
  REQUIRE(std::abs(n.mean_difference) > 0.02);
  options.normalisation_tolerance = EdaOptions{}.normalisation_tolerance;
  auto strict = analyse_fmnist(parts.train, parts.test, options);
  REQUIRE(strict.ok());
  CHECK_FALSE(strict->normalisation.agree);
  // A tolerance just above both differences agrees again, just below the larger one does not.
  const double larger = std::max(std::abs(n.mean_difference), std::abs(n.std_difference));
  options.normalisation_tolerance = larger * 1.001;
  CHECK(analyse_fmnist(parts.train, parts.test, options)->normalisation.agree);
  options.normalisation_tolerance = larger * 0.999;
  CHECK_FALSE(analyse_fmnist(parts.train, parts.test, options)->normalisation.agree);
}

TEST_CASE("eda: a sample larger than a split is refused, naming the split") {
  TempDir dir;
  const Parts parts = generated_parts(dir, 30, 10);
  EdaOptions options;
  options.sample_size = 20;
  auto r = analyse_fmnist(parts.train, parts.test, options);
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message().find("test split") != std::string::npos);
  CHECK(r.status().message().find("larger than the 10 available") != std::string::npos);
}

TEST_CASE("eda: metrics name every figure worth tracking") {
  const auto m = eda_metrics(analysed(30, 30, 20));
  for (const char* key :
       {"train_class_imbalance", "test_class_imbalance", "train_pixel_mean", "train_pixel_std",
        "test_pixel_mean", "test_pixel_std", "normalisation_mean_difference",
        "normalisation_std_difference", "pca_explained_variance_pc1", "pca_explained_variance_pc10",
        "pca_explained_variance_2d", "drift_class_frequency_psi", "drift_pixel_intensity_psi",
        "drift_pixel_intensity_ks", "drift_level", "train_images_analysed"}) {
    CHECK_MESSAGE(m.count(key) == 1, key);
  }
  CHECK(m.at("train_images_analysed") == 20);
}

TEST_CASE("eda: the files are every picture, summary.json and a report that embeds every picture") {
  TempDir out;
  auto files = write_eda_files(analysed(60, 40, 35), out.path());
  REQUIRE_MESSAGE(files.ok(), files.status().to_string());
  const std::vector<std::string> expected = {"class_distribution.png", "sample_grid.png",
                                             "pixel_histogram.png",    "class_mean_images.png",
                                             "pca_scatter.png",        "pca_explained_variance.png",
                                             "summary.json",           "eda_report.html"};
  CHECK(*files == expected);
  for (const auto& f : expected) {
    REQUIRE_MESSAGE(std::filesystem::is_regular_file(out.path() + "/" + f), f);
    if (f.size() > 4 && f.substr(f.size() - 4) == ".png") {
      CHECK(read_file(out.path() + "/" + f).rfind("\x89PNG", 0) == 0);
    }
  }

  const auto summary = nlohmann::json::parse(read_file(out.path() + "/summary.json"));
  CHECK(summary["pictures"].size() == 6);
  CHECK(summary["splits"]["train"]["images_analysed"] == 35);
  CHECK(summary["splits"]["test"]["images_in_files"] == 40);
  CHECK(summary["splits"]["train"]["pixel_histogram"].size() == 256);
  CHECK(summary["normalisation"]["agree"].is_boolean());
  CHECK(summary["normalisation"]["tolerance"] == 0.02);
  CHECK(summary["pca"]["explained_variance_ratio"].size() == 10);
  CHECK(summary["drift"]["verdict"].is_string());
  CHECK(summary["drift"]["thresholds"]["psi_significant"] == 0.25);
  CHECK(summary["drift"]["pixel_intensity"].contains("ks"));

  const std::string html = read_file(out.path() + "/eda_report.html");
  for (std::size_t i = 0; i < 6; ++i) {
    CHECK_MESSAGE(
        html.find("alt=\"" + expected[i] + "\" src=\"data:image/png;base64,") != std::string::npos,
        expected[i]);
  }
  CHECK(html.find("Verdict: " + summary["drift"]["verdict"].get<std::string>()) !=
        std::string::npos);
  CHECK(html.find("Thresholds: population stability index (PSI) below 0.1 is no drift") !=
        std::string::npos);
  CHECK(html.find(out.path()) == std::string::npos);
  // Self-contained: nothing is fetched from elsewhere when the MLflow UI previews it.
  for (const char* external : {"<script", "<link", "src=\"http", "url(", "@import"}) {
    CHECK_MESSAGE(html.find(external) == std::string::npos, external);
  }
}

TEST_CASE("eda: an unwritable directory is kFailedPrecondition naming the file") {
  TempDir out;
  auto files = write_eda_files(analysed(20, 20, 10), out.path() + "/no/such/dir");
  CHECK(files.status().code() == StatusCode::kFailedPrecondition);
  CHECK(files.status().message().find(out.path() + "/no/such/dir/class_distribution.png") !=
        std::string::npos);
}

}  // namespace
}  // namespace mlflow::fmnist
