// SPDX-License-Identifier: Apache-2.0
// The EDA's HTML report and the set of files an EDA run leaves behind.
#include <fmt/format.h>

#include <algorithm>

#include "fmnist/eda.h"
#include "fmnist/html_report.h"
#include "mlflow/training/staging_dir.h"

namespace mlflow::fmnist {
namespace {

std::string fixed(double v, int decimals = 4) { return fmt::format("{:.{}f}", v, decimals); }

const EdaPicture* find_picture(const std::vector<EdaPicture>& pictures, const std::string& file) {
  for (const auto& p : pictures) {
    if (p.file == file) return &p;
  }
  return nullptr;
}

HtmlSection overview(const EdaResult& r) {
  HtmlSection s{"Overview", {}, {}, {}};
  s.paragraphs.push_back(
      r.options.all
          ? "Every image of both splits is analysed."
          : fmt::format(
                "{} images are sampled from each split (seed {}), the same ones for the same seed.",
                r.options.sample_size, r.options.seed));
  HtmlTable t{{"split", "images in the files", "analysed", "pixel mean", "pixel std",
               "class imbalance (max/min)"},
              {}};
  for (const EdaSplit* split : {&r.train, &r.test}) {
    t.rows.push_back({split->name, std::to_string(split->part_rows),
                      std::to_string(split->stats.images), fixed(split->stats.pixel_mean),
                      fixed(split->stats.pixel_std), fixed(split->classes.imbalance, 3)});
  }
  s.tables.push_back(std::move(t));
  s.paragraphs.push_back("Files: " + r.train.sample.files.images + ", " +
                         r.train.sample.files.labels + ", " + r.test.sample.files.images + ", " +
                         r.test.sample.files.labels + ".");
  return s;
}

HtmlSection class_section(const EdaResult& r) {
  HtmlSection s{"Class distribution", {}, {}, {}};
  s.paragraphs.push_back(
      "Counted over every image of the files (labels are cheap), also when the pixels are "
      "analysed on a sample: a sample's counts would vary by chance.");
  HtmlTable t{{"class", "train", "test"}, {}};
  for (std::size_t c = 0; c < r.train.classes.counts.size(); ++c) {
    t.rows.push_back({std::string(kFmnistClassNames[c]), std::to_string(r.train.classes.counts[c]),
                      std::to_string(r.test.classes.counts[c])});
  }
  s.tables.push_back(std::move(t));
  for (const EdaSplit* split : {&r.train, &r.test}) {
    if (split->classes.empty_classes.empty()) continue;
    std::string names;
    for (int c : split->classes.empty_classes)
      names += (names.empty() ? "" : ", ") + std::string(kFmnistClassNames[c]);
    s.paragraphs.push_back("Classes with no image in the " + split->name + " split: " + names +
                           ".");
  }
  return s;
}

HtmlSection normalisation_section(const EdaResult& r) {
  const NormalisationCheck& n = r.normalisation;
  HtmlSection s{"Pixel intensities and the trainer's normalisation", {}, {}, {}};
  s.paragraphs.push_back(
      fmt::format("The trainer normalises pixels (scaled to [0, 1]) with mean {} and standard "
                  "deviation {}. The analysed training "
                  "images have mean {} (difference {:+.5f}) and standard deviation {} (difference "
                  "{:+.5f}): {} within the "
                  "tolerance of {}.",
                  fixed(n.trainer_mean), fixed(n.trainer_std), fixed(r.train.stats.pixel_mean),
                  n.mean_difference, fixed(r.train.stats.pixel_std), n.std_difference,
                  n.agree ? "they agree" : "they DO NOT agree", n.tolerance));
  return s;
}

HtmlSection pca_section(const EdaResult& r) {
  HtmlSection s{"Principal components", {}, {}, {}};
  s.paragraphs.push_back(
      fmt::format("PCA (SVD of the centred pixels) of the {} analysed training images. The first "
                  "two components explain {:.1f}% "
                  "of the variance.",
                  r.train.stats.images, 100 * r.pca.explained_variance_2d()));
  HtmlTable t{{"component", "explained variance", "cumulative"}, {}};
  double cumulative = 0;
  for (std::size_t i = 0; i < r.pca.explained_variance_ratio.size(); ++i) {
    cumulative += r.pca.explained_variance_ratio[i];
    t.rows.push_back({"PC" + std::to_string(i + 1),
                      fmt::format("{:.2f}%", 100 * r.pca.explained_variance_ratio[i]),
                      fmt::format("{:.2f}%", 100 * cumulative)});
  }
  s.tables.push_back(std::move(t));
  return s;
}

HtmlSection drift_section(const EdaResult& r) {
  const DriftReport& d = r.drift;
  const DriftThresholds& t = d.thresholds;
  HtmlSection s{"Train/test drift", {}, {}, {}};
  s.paragraphs.push_back(std::string("Verdict: ") + drift_level_name(d.overall) + ".");
  HtmlTable table{{"distribution", "statistic", "value", "verdict"}, {}};
  table.rows.push_back({"class frequency", "PSI", fixed(d.class_frequency.psi),
                        drift_level_name(psi_level(d.class_frequency.psi, t))});
  table.rows.push_back({"pixel intensity", "PSI", fixed(d.pixel_intensity.psi),
                        drift_level_name(psi_level(d.pixel_intensity.psi, t))});
  if (d.pixel_intensity.ks) {
    table.rows.push_back({"pixel intensity", "Kolmogorov-Smirnov", fixed(*d.pixel_intensity.ks),
                          drift_level_name(ks_level(*d.pixel_intensity.ks, t))});
  }
  s.tables.push_back(std::move(table));
  s.paragraphs.push_back(fmt::format(
      "Thresholds: population stability index (PSI) below {} is no drift, from {} minor, from {} "
      "significant; "
      "Kolmogorov-Smirnov statistic (largest gap between the two cumulative distributions) below "
      "{} is no drift, "
      "from {} minor, from {} significant. Each distribution takes its worse statistic, the "
      "verdict the worse "
      "distribution. The test split is compared against the training split.",
      t.psi_minor, t.psi_minor, t.psi_significant, t.ks_minor, t.ks_minor, t.ks_significant));
  return s;
}

}  // namespace

StatusOr<std::string> eda_html_report(const EdaResult& r, const std::vector<EdaPicture>& pictures,
                                      const std::string& dir) {
  HtmlReport report;
  report.title = "Fashion-MNIST exploratory data analysis";
  report.subtitle = fmt::format("train {} of {} images, test {} of {} images; drift verdict: {}",
                                r.train.stats.images, r.train.part_rows, r.test.stats.images,
                                r.test.part_rows, drift_level_name(r.drift.overall));
  // Each section shows its own pictures; a picture no section claims goes to the end.
  const std::vector<std::pair<HtmlSection, std::vector<std::string>>> layout = {
      {overview(r), {}},
      {class_section(r), {"class_distribution.png", "sample_grid.png"}},
      {normalisation_section(r), {"pixel_histogram.png", "class_mean_images.png"}},
      {pca_section(r), {"pca_scatter.png", "pca_explained_variance.png"}},
      {drift_section(r), {}}};
  std::vector<std::string> placed;
  for (const auto& [section, files] : layout) {
    report.sections.push_back(section);
    for (const auto& f : files) {
      if (const EdaPicture* p = find_picture(pictures, f)) {
        report.sections.back().figures.push_back(
            {dir + "/" + p->file, p->title + ": " + p->caption});
        placed.push_back(f);
      }
    }
  }
  HtmlSection more{"More pictures", {}, {}, {}};
  for (const auto& p : pictures) {
    if (std::find(placed.begin(), placed.end(), p.file) == placed.end()) {
      more.figures.push_back({dir + "/" + p.file, p.title + ": " + p.caption});
    }
  }
  if (!more.figures.empty()) report.sections.push_back(std::move(more));
  return render_html_report(report);
}

StatusOr<std::vector<std::string>> write_eda_files(const EdaResult& r, const std::string& dir) {
  auto pictures = write_eda_pictures(r, dir);
  if (!pictures.ok()) return pictures.status();
  std::vector<std::string> files;
  for (const auto& p : *pictures) files.push_back(p.file);
  MLFLOW_CPP_RETURN_IF_ERROR(
      training::write_text(dir + "/" + kEdaSummaryFile, eda_summary_json(r, *pictures) + "\n"));
  files.push_back(kEdaSummaryFile);
  auto html = eda_html_report(r, *pictures, dir);
  if (!html.ok()) return html.status();
  MLFLOW_CPP_RETURN_IF_ERROR(training::write_text(dir + "/" + kEdaReportFile, *html));
  files.push_back(kEdaReportFile);
  return files;
}

}  // namespace mlflow::fmnist
