// SPDX-License-Identifier: Apache-2.0
// The EDA of the two Fashion-MNIST parts: samples, statistics, normalisation check, PCA and drift.
#include <cmath>
#include <numeric>

#include "fmnist/eda.h"

namespace mlflow::fmnist {
namespace {

StatusOr<EdaSplit> analyse_split(const std::string& name, const FmnistRaw& part,
                                 const EdaOptions& options) {
  EdaSplit split;
  split.name = name;
  split.part_rows = part.n;
  auto classes = class_distribution(part.labels);
  if (!classes.ok()) return classes.status().with_context(name + " split");
  split.classes = std::move(*classes);
  if (options.all) {
    split.sample = part;
  } else {
    auto rows = sample_rows(part.n, options.sample_size, options.seed);
    if (!rows.ok()) return rows.status().with_context(name + " split");
    split.sample = select_rows(part, *rows);
  }
  auto stats = compute_split_stats(split.sample);
  if (!stats.ok()) return stats.status().with_context(name + " split");
  split.stats = std::move(*stats);
  return split;
}

NormalisationCheck check_normalisation(const SplitStats& train, double tolerance) {
  NormalisationCheck c;
  c.mean_difference = train.pixel_mean - c.trainer_mean;
  c.std_difference = train.pixel_std - c.trainer_std;
  c.tolerance = tolerance;
  c.agree = std::abs(c.mean_difference) <= tolerance && std::abs(c.std_difference) <= tolerance;
  return c;
}

}  // namespace

StatusOr<EdaResult> analyse_fmnist(const FmnistRaw& train_part, const FmnistRaw& test_part,
                                   const EdaOptions& options) {
  if (options.pca_components < 2 || !(options.normalisation_tolerance >= 0)) {
    return Status(StatusCode::kInvalidArgument,
                  "EDA options: pca_components must be at least 2 and the "
                  "normalisation tolerance not negative");
  }
  if (train_part.rows != test_part.rows || train_part.cols != test_part.cols) {
    return Status(StatusCode::kInvalidArgument, "the train and test images differ in size");
  }
  EdaResult r;
  r.options = options;
  auto train = analyse_split("train", train_part, options);
  if (!train.ok()) return train.status();
  r.train = std::move(*train);
  auto test = analyse_split("test", test_part, options);
  if (!test.ok()) return test.status();
  r.test = std::move(*test);

  r.normalisation = check_normalisation(r.train.stats, options.normalisation_tolerance);
  auto pca = pca_2d(r.train.sample.pixels, r.train.sample.n,
                    r.train.sample.rows * r.train.sample.cols, options.pca_components);
  if (!pca.ok()) return pca.status().with_context("train split");
  r.pca = std::move(*pca);
  auto drift = compare_splits({r.train.classes.counts, r.train.stats.pixel_histogram},
                              {r.test.classes.counts, r.test.stats.pixel_histogram}, options.drift);
  if (!drift.ok()) return drift.status();
  r.drift = *drift;
  return r;
}

}  // namespace mlflow::fmnist
