// SPDX-License-Identifier: Apache-2.0
// The EDA's numbers as MLflow metrics and as summary.json.
#include <nlohmann/json.hpp>

#include "fmnist/eda.h"

namespace mlflow::fmnist {
namespace {

// Keys stay in the order written: classes by label, sections as in the report.
using json = nlohmann::ordered_json;

json class_json(const std::vector<std::int64_t>& counts) {
  json j = json::object();
  for (std::size_t c = 0; c < counts.size(); ++c) j[std::string(kFmnistClassNames[c])] = counts[c];
  return j;
}

json split_json(const EdaSplit& s) {
  std::vector<std::string> empty;
  for (int c : s.classes.empty_classes)
    empty.emplace_back(kFmnistClassNames[static_cast<std::size_t>(c)]);
  return {{"images_in_files", s.part_rows},
          {"images_analysed", s.stats.images},
          {"files", {s.sample.files.images, s.sample.files.labels}},
          {"class_counts", class_json(s.classes.counts)},  // every image of the files
          {"class_imbalance", s.classes.imbalance},
          {"empty_classes", empty},
          {"sample_class_counts", class_json(s.stats.class_counts)},
          {"pixel_mean", s.stats.pixel_mean},
          {"pixel_std", s.stats.pixel_std},
          {"background_fraction", s.stats.background_fraction},
          {"pixel_histogram", s.stats.pixel_histogram}};
}

json comparison_json(const DriftComparison& c) {
  json j = {{"psi", c.psi}, {"verdict", drift_level_name(c.level)}};
  if (c.ks) j["ks"] = *c.ks;
  return j;
}

}  // namespace

std::map<std::string, double> eda_metrics(const EdaResult& r) {
  std::map<std::string, double> m;
  for (const EdaSplit* s : {&r.train, &r.test}) {
    m[s->name + "_images_analysed"] = static_cast<double>(s->stats.images);
    m[s->name + "_class_imbalance"] = s->classes.imbalance;
    m[s->name + "_pixel_mean"] = s->stats.pixel_mean;
    m[s->name + "_pixel_std"] = s->stats.pixel_std;
  }
  m["normalisation_mean_difference"] = r.normalisation.mean_difference;
  m["normalisation_std_difference"] = r.normalisation.std_difference;
  for (std::size_t i = 0; i < r.pca.explained_variance_ratio.size(); ++i) {
    m["pca_explained_variance_pc" + std::to_string(i + 1)] = r.pca.explained_variance_ratio[i];
  }
  m["pca_explained_variance_2d"] = r.pca.explained_variance_2d();
  m["drift_class_frequency_psi"] = r.drift.class_frequency.psi;
  m["drift_pixel_intensity_psi"] = r.drift.pixel_intensity.psi;
  if (r.drift.pixel_intensity.ks) m["drift_pixel_intensity_ks"] = *r.drift.pixel_intensity.ks;
  m["drift_level"] = static_cast<double>(static_cast<int>(r.drift.overall));
  return m;
}

std::string eda_summary_json(const EdaResult& r, const std::vector<EdaPicture>& pictures) {
  const NormalisationCheck& n = r.normalisation;
  const DriftThresholds& t = r.drift.thresholds;
  json pics = json::array();
  for (const auto& p : pictures) pics.push_back(p.file);
  const json j = {
      {"options",
       {{"sample_size", r.options.all ? json("all") : json(r.options.sample_size)},
        {"seed", r.options.seed}}},
      {"splits", {{"train", split_json(r.train)}, {"test", split_json(r.test)}}},
      {"normalisation",
       {{"trainer_mean", n.trainer_mean},
        {"trainer_std", n.trainer_std},
        {"sample_mean", r.train.stats.pixel_mean},
        {"sample_std", r.train.stats.pixel_std},
        {"mean_difference", n.mean_difference},
        {"std_difference", n.std_difference},
        {"tolerance", n.tolerance},
        {"agree", n.agree},
        {"note",
         "training-split pixels in [0, 1] against the constants the trainer normalises with"}}},
      {"pca",
       {{"fitted_on", "train split (" + std::to_string(r.train.stats.images) +
                          " images), pixels in [0, 1], centred"},
        {"explained_variance_ratio", r.pca.explained_variance_ratio},
        {"explained_variance_2d", r.pca.explained_variance_2d()}}},
      {"drift",
       {{"reference", "train"},
        {"current", "test"},
        {"class_frequency", comparison_json(r.drift.class_frequency)},
        {"pixel_intensity", comparison_json(r.drift.pixel_intensity)},
        {"verdict", drift_level_name(r.drift.overall)},
        {"thresholds",
         {{"psi_minor", t.psi_minor},
          {"psi_significant", t.psi_significant},
          {"ks_minor", t.ks_minor},
          {"ks_significant", t.ks_significant},
          {"rule",
           "per statistic: below the minor limit 'no drift', from it 'minor', from the significant "
           "limit "
           "'significant'; a comparison takes its worse statistic, the verdict the worse "
           "comparison"}}}}},
      {"pictures", pics}};
  return j.dump(2);
}

}  // namespace mlflow::fmnist
